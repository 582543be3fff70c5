"""Every model is in the admin (or deliberately not), and every admin page loads on a demo-like book."""

from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import HistoricalChanges

# Models deliberately without an admin screen of their own.
NOT_IN_ADMIN = {
    # Django's own bookkeeping: the admin action log, permission rows (edited through groups), content types,
    # sessions. None is a business record.
    "admin.logentry",
    "auth.permission",
    "contenttypes.contenttype",
    "sessions.session",
}


def test_every_model_is_registered_in_the_admin():
    missing = {
        model._meta.label_lower
        for model in apps.get_models()
        # Historical rows are the history pages of their model's screen.
        if not issubclass(model, HistoricalChanges) and model not in admin.site._registry
    }
    assert missing == NOT_IN_ADMIN


def test_every_model_with_history_shows_its_history_pages():
    without = {
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if hasattr(model, "history") and not isinstance(model_admin, SimpleHistoryAdmin)
    }
    assert without == set()


def test_every_changelist_change_and_history_page_loads_for_a_superuser(client, book, known_ids):
    superuser = get_user_model().objects.create_superuser(username="root", password="pw", email="r@example.com")
    client.force_login(superuser)
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = client.get(changelist)
        assert response.status_code == 200, changelist
        if model_admin.search_fields:
            searched = client.get(changelist, {"q": known_ids["national_id"]})
            assert searched.status_code == 200, f"{changelist} search"
        obj = model_admin.get_queryset(response.wsgi_request).first()
        pages = []
        if obj is not None:
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk]))
        if model_admin.has_add_permission(response.wsgi_request):
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        for url in pages:
            page = client.get(url)
            assert page.status_code == 200, url
            content = page.content.decode()
            assert known_ids["national_id"] not in content and known_ids["mobile"] not in content, url


def test_the_work_screens_load_for_a_superuser(client, book):
    client.force_login(get_user_model().objects.create_superuser(username="root", password="pw", email="r@x.com"))
    for name in (
        "admin:index",
        "admin:underwriting_application_review_queue",
        "admin:collections_collectioncase_my_queue",
        "admin:insurance_policy_loss_sharing",
        "admin:workspace_piireveal_changelist",
    ):
        assert client.get(reverse(name), follow=True).status_code == 200, name
