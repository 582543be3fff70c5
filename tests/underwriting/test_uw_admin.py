"""Underwriting admin: the review form goes through the service (four eyes), versions are activated by action."""

from decimal import Decimal

import pytest
from django.urls import reverse

from underwriting.models import Application, ModelVersion
from underwriting.selectors import rule_settings_get

REVIEW = {
    "credit_score": 620,
    "monthly_income": "6000.00",
    "months_on_platform": 6,
    "monthly_obligations": "1200.00",
    "existing_debt": "20000.00",
    "other_lenders": 3,
    "identity_verified": True,
    "device_verified": False,
}


@pytest.fixture
def staff(django_user_model):
    def make(name):
        return django_user_model.objects.create_superuser(username=name, password="pw", email=f"{name}@example.com")

    return make


def test_the_review_form_approves_with_four_eyes(client, staff, borrower, submit):
    settings = rule_settings_get()
    settings.four_eyes_limit = Decimal("5000")
    settings.save()
    application = submit(borrower, REVIEW)
    change = reverse("admin:underwriting_application_change", args=[application.pk])
    review = reverse("admin:underwriting_application_review", args=[application.pk])
    client.force_login(staff("first"))
    page = client.get(change)
    assert page.status_code == 200 and b"review-form" in page.content
    client.post(review, {"verdict": "approve", "notes": "payslips seen", "limit": "6000"})
    response = client.post(review, {"verdict": "approve", "notes": "again", "limit": "6000"}, follow=True)
    assert b"second reviewer" in response.content
    client.force_login(staff("second"))
    client.post(review, {"verdict": "approve", "notes": "agreed", "limit": "6000"})
    application.refresh_from_db()
    assert application.state == Application.State.APPROVED and application.credit_line.limit == Decimal("6000")


def test_bad_review_input_is_a_message_not_an_error(client, staff, borrower, submit):
    application = submit(borrower, REVIEW)
    client.force_login(staff("first"))
    review = reverse("admin:underwriting_application_review", args=[application.pk])
    response = client.post(review, {"verdict": "approve", "notes": "x", "limit": "lots"}, follow=True)
    assert response.status_code == 200 and b"decimal numbers" in response.content


def test_list_pages_render(client, staff, borrower, good_data, submit):
    submit(borrower, good_data)
    client.force_login(staff("viewer"))
    for name in ("application", "modelversion", "rulesettings", "blocklistentry", "limitreview"):
        assert client.get(reverse(f"admin:underwriting_{name}_changelist")).status_code == 200
    assert ModelVersion.objects.count() == 0
