"""Partner admin: the partner page with keys, limits and webhook endpoint; deliveries visible; keys revocable."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from partners.models import ApiKey, WebhookAttempt, WebhookEvent
from partners.services import webhook_endpoint_set


@pytest.fixture
def staff(client, db):
    User.objects.create_superuser("admin", "admin@example.com", "pw-for-test-only")
    client.login(username="admin", password="pw-for-test-only")
    return client


def test_the_partner_page_shows_keys_settings_and_endpoint_without_the_key(staff, acme):
    response = staff.get(reverse("admin:lending_partner_change", args=[acme.partner.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert acme.partner.api_keys.get().prefix in html and acme.key not in html
    assert "webhook" in html.lower() and "requests per minute" in html.lower()


def test_webhook_events_and_attempts_are_listed(staff, acme):
    webhook_endpoint_set(partner=acme.partner, url="https://acme.example/hooks")
    event = WebhookEvent.objects.create(
        partner=acme.partner, type="loan.disbursed", payload={"loan_id": 1}, next_attempt_at="2031-01-15T00:00Z"
    )
    WebhookAttempt.objects.create(
        event=event, number=1, url="https://acme.example/hooks", attempted_at="2031-01-15T00:00Z", status_code=500,
        duration_ms=12, succeeded=False,
    )  # fmt: skip

    assert staff.get(reverse("admin:partners_webhookevent_changelist")).status_code == 200
    assert staff.get(reverse("admin:partners_webhookevent_change", args=[event.pk])).status_code == 200
    assert staff.get(reverse("admin:partners_webhookattempt_changelist")).status_code == 200


def test_staff_revoke_keys_with_the_admin_action(staff, acme):
    api_key = acme.partner.api_keys.get()
    response = staff.post(
        reverse("admin:partners_apikey_changelist"), {"action": "revoke", "_selected_action": [api_key.pk]}
    )

    assert response.status_code == 302
    assert ApiKey.objects.get(pk=api_key.pk).revoked_at is not None
    assert acme.client.get("/api/v1/loans").status_code == 401
