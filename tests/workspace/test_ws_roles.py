"""Roles: each group holds exactly its table's permissions, stays complete after migrate, and sees its menus."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.urls import reverse

from workspace.roles import roles_sync


def visible_models(client, user) -> dict[str, dict]:
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return {
        f"{app['app_label']}.{model['object_name'].lower()}": model
        for app in response.context["app_list"]
        for model in app["models"]
    }


# (role, models it must see in the admin menu, models it must not see). Explicit on purpose: the table in
# workspace.roles computes the groups, this says what a person in the role should find on the screen.
MENU_MATRIX = [
    (
        "risk analysts",
        {"lending.loan", "lending.borrower", "underwriting.application", "underwriting.rulesettings",
         "collections.collectioncase", "insurance.insuranceclaim", "ledger.journalentry", "partners.webhookevent"},
        {"workspace.piireveal", "auth.user", "auth.group"},
    ),
    (
        "underwriters",
        {"underwriting.application", "underwriting.applicationreview", "lending.borrower", "lending.creditline"},
        {"lending.loan", "collections.collectioncase", "insurance.insuranceclaim", "ledger.journalentry",
         "underwriting.blocklistentry", "workspace.piireveal"},
    ),
    (
        "senior underwriters",
        {"underwriting.application", "underwriting.blocklistentry", "underwriting.drawdownalert"},
        {"lending.loan", "collections.collectioncase", "ledger.journalentry", "workspace.piireveal"},
    ),
    (
        "collectors",
        {"collections.collectioncase", "collections.contactattempt", "collections.promisetopay", "lending.loan",
         "lending.installment", "lending.repayment", "insurance.insuranceclaim"},
        {"underwriting.application", "ledger.journalentry", "insurance.policy", "workspace.piireveal",
         "underwriting.rulesettings"},
    ),
    (
        "collections managers",
        {"collections.collectioncase", "collections.collectorprofile", "collections.hardshiprecord",
         "collections.recovery", "lending.loan"},
        {"underwriting.application", "ledger.journalentry", "workspace.piireveal"},
    ),
    (
        "claims officers",
        {"insurance.insuranceclaim", "insurance.coverage", "insurance.policy", "lending.loan",
         "collections.collectioncase"},
        {"underwriting.application", "ledger.journalentry", "collections.contactattempt", "workspace.piireveal"},
    ),
    (
        "finance",
        {"ledger.journalentry", "ledger.journalline", "ledger.dayseal", "lending.repayment", "insurance.insurer",
         "insurance.lossallocation", "core.closesteprun"},
        {"underwriting.application", "collections.collectioncase", "workspace.piireveal", "auth.user"},
    ),
    (
        "auditors",
        {"workspace.piireveal", "ledger.journalentry", "lending.borrower", "underwriting.application",
         "collections.collectioncase", "insurance.insuranceclaim", "partners.apikey", "auth.user", "auth.group"},
        set(),
    ),
    ("administrators", {"workspace.piireveal", "auth.user", "lending.product", "ledger.journalentry"}, set()),
]  # fmt: skip


def test_every_permission_named_by_a_role_exists(db):
    assert roles_sync() == {}


@pytest.mark.parametrize(("group", "sees", "hidden"), MENU_MATRIX, ids=[row[0] for row in MENU_MATRIX])
def test_each_role_sees_exactly_its_menus(client, role_user, group, sees, hidden):
    visible = visible_models(client, role_user(group))
    assert sees <= visible.keys(), f"{group} misses {sees - visible.keys()}"
    assert not hidden & visible.keys(), f"{group} should not see {hidden & visible.keys()}"


def test_the_auditor_sees_every_registered_model_and_can_add_or_change_none(client, role_user):
    from django.contrib import admin

    visible = visible_models(client, role_user("auditors"))
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered - {"auth.permission"} <= visible.keys()
    writable = {label for label, model in visible.items() if model["perms"]["add"] or model["perms"]["change"]}
    assert writable == set()
    assert all(not model["perms"]["delete"] for model in visible.values())


def test_a_permission_removed_by_hand_is_restored_by_sync_roles(db):
    auditors = Group.objects.get(name="auditors")
    before = set(auditors.permissions.values_list("pk", flat=True))
    auditors.permissions.remove(Permission.objects.get(codename="view_loan"))
    call_command("sync_roles", verbosity=0)
    call_command("sync_roles", verbosity=0)
    assert set(auditors.permissions.values_list("pk", flat=True)) == before


def test_migrate_gives_the_view_everything_roles_the_permissions_of_a_model_added_later(db):
    # A model's permissions are created by migrate; a new one stands in for a model added after the data migration.
    content_type = ContentType.objects.create(app_label="lending", model="newledgerthing")
    added = Permission.objects.create(codename="view_newledgerthing", name="Can view", content_type=content_type)
    call_command("migrate", verbosity=0)
    assert Group.objects.get(name="auditors").permissions.filter(pk=added.pk).exists()
    assert Group.objects.get(name="risk analysts").permissions.filter(pk=added.pk).exists()
    assert not Group.objects.get(name="collectors").permissions.filter(pk=added.pk).exists()


def test_the_work_screens_on_the_home_page_follow_the_role(client, role_user):
    expected = {
        "underwriters": {"ws-review-queue"},
        "collectors": {"ws-my-queue", "ws-overdue"},
        "claims officers": {"ws-claims", "ws-loss-sharing", "ws-overdue"},
        "auditors": {"ws-loss-sharing", "ws-overdue", "ws-reveals"},
    }
    every = {"ws-review-queue", "ws-my-queue", "ws-claims", "ws-loss-sharing", "ws-overdue", "ws-reveals"}
    for group, links in expected.items():
        client.force_login(role_user(group))
        page = client.get(reverse("admin:index")).content.decode()
        shown = {link for link in every if f'id="{link}"' in page}
        assert shown == links, group


def test_the_demo_has_one_staff_user_per_role_and_only_in_development(db, settings):
    from django.contrib.auth import get_user_model
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("ensure_demo_staff", verbosity=0)
    settings.DEBUG = True
    call_command("ensure_demo_staff", verbosity=0)
    call_command("ensure_demo_staff", verbosity=0)
    staff = get_user_model().objects.filter(is_staff=True)
    assert {user.groups.get().name for user in staff} == {group.name for group in Group.objects.all()}
    analyst = staff.get(username="analyst")
    assert not analyst.is_superuser and analyst.check_password("lending-demo")
    assert not analyst.has_perm("workspace.reveal_pii")
    assert hasattr(staff.get(username="collector"), "collector_profile")
