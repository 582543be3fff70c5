"""The disbursement lifecycle: success, failure, delay and timeout; the loan is disbursed only on confirmation."""

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone

from core.business_date import business_date_set
from ledger.models import JournalEntry
from lending.models import CreditLine, Loan
from partners import webhooks
from partners.models import WebhookEvent
from partners.services import webhook_endpoint_set
from payments.models import CallbackLog, Disbursement
from payments.services.disbursements import disbursements_chase


def _loan(response) -> Loan:
    assert response.status_code == 201, response.json()
    return Loan.objects.get(pk=response.json()["id"])


def test_by_default_a_drawdown_is_confirmed_at_once_and_disbursed(world):
    account = world.card(for_disbursement=True)
    response = world.draw()
    loan = _loan(response)
    assert response.json()["state"] == loan.state == Loan.State.CURRENT
    disbursement = loan.disbursement
    assert (disbursement.state, disbursement.account, disbursement.amount) == ("confirmed", account, loan.principal)
    assert disbursement.reference.startswith("D") and disbursement.gateway_reference == f"SIM-{disbursement.reference}"
    assert loan.disbursed_on == disbursement.value_date
    assert CallbackLog.objects.get(reference=disbursement.reference).outcome == "applied"
    assert JournalEntry.objects.filter(kind="disbursement", reference=loan.number).count() == 1


def test_an_immediate_confirmation_books_the_loan_disbursed_in_one_step(world):
    loan = _loan(world.draw())
    assert list(loan.history.values_list("state", flat=True)) == [Loan.State.CURRENT]
    assert list(loan.disbursement.history.values_list("state", "attempts", "history_change_reason")) == [
        (Disbursement.State.CONFIRMED, 1, "instructed and confirmed in the request")
    ]
    assert CallbackLog.objects.get(reference=loan.disbursement.reference).source == "reply"


def test_an_in_process_refusal_is_undone_and_goes_through_the_lifecycle_with_its_reference(world, gateway_rates):
    gateway_rates(failure_rate=1.0)
    loan = _loan(world.draw())
    assert list(loan.history.order_by("history_id").values_list("state", flat=True)) == ["pending", "cancelled"]
    assert loan.disbursement.attempts == 1
    assert CallbackLog.objects.filter(reference=loan.disbursement.reference).count() == 1
    assert not loan.installments.exists()


def test_a_replayed_drawdown_instructs_once(world):
    first = world.post(
        f"/api/v1/credit-lines/{world.line.pk}/drawdowns",
        {"amount": "10000", "term_months": 12, "method": "equal_installment"}, key="draw-1",
    )  # fmt: skip
    again = world.post(
        f"/api/v1/credit-lines/{world.line.pk}/drawdowns",
        {"amount": "10000", "term_months": 12, "method": "equal_installment"}, key="draw-1",
    )  # fmt: skip
    assert first.json() == again.json()
    assert Disbursement.objects.count() == 1


def test_a_failed_disbursement_cancels_the_loan_and_frees_the_limit(world, gateway_rates):
    gateway_rates(failure_rate=1.0)
    loan = _loan(world.draw())
    assert loan.state == Loan.State.CANCELLED
    assert loan.disbursement.state == Disbursement.State.FAILED
    assert "declined" in loan.disbursement.failure_reason
    assert CreditLine.objects.get(pk=world.line.pk).used == Decimal("0")
    assert not JournalEntry.objects.filter(kind="disbursement").exists()


def test_a_delayed_disbursement_waits_pending_and_is_confirmed_when_chased(world, gateway_rates):
    gateway_rates(delay_rate=1.0)
    loan = _loan(world.draw())
    assert loan.state == Loan.State.PENDING
    assert loan.disbursement.state == Disbursement.State.SENT
    assert not loan.installments.exists()
    assert disbursements_chase() == {"resent": 0, "timed_out": 0, "errors": 0}  # not yet due for a chase
    later = timezone.now() + timedelta(hours=1)
    assert disbursements_chase(now=later)["resent"] == 1
    loan.refresh_from_db()
    assert loan.state == Loan.State.CURRENT
    assert loan.disbursement.attempts == 2


def test_an_unanswered_disbursement_times_out_after_the_last_attempt(world, settings):
    settings.PAYMENTS_DISBURSEMENT_GATEWAY = "partner_channel"
    loan = _loan(world.draw())
    assert loan.state == Loan.State.PENDING
    now = timezone.now()
    for hour in range(1, settings.PAYMENTS_MAX_ATTEMPTS):
        assert disbursements_chase(now=now + timedelta(hours=hour))["resent"] == 1
    assert disbursements_chase(now=now + timedelta(hours=10))["timed_out"] == 1
    loan.refresh_from_db()
    assert loan.state == Loan.State.CANCELLED
    assert loan.disbursement.failure_reason.startswith("timed out")
    assert loan.disbursement.attempts == settings.PAYMENTS_MAX_ATTEMPTS


def test_the_loan_disbursed_webhook_fires_on_confirmation_only(
    world, settings, monkeypatch, django_capture_on_commit_callbacks
):
    delivered = []
    transport = httpx.MockTransport(lambda request: delivered.append(request) or httpx.Response(200))
    monkeypatch.setattr(webhooks, "http_client", lambda: httpx.Client(transport=transport))
    webhook_endpoint_set(partner=world.partner, url="https://acme.example/hooks")
    settings.PAYMENTS_DISBURSEMENT_GATEWAY = "partner_channel"
    with django_capture_on_commit_callbacks(execute=True):
        loan = _loan(world.draw())
    assert not WebhookEvent.objects.filter(type="loan.disbursed").exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = world.post(
            f"/api/v1/loans/{loan.pk}/disbursement/report", {"status": "confirmed", "amount": f"{loan.principal:.2f}"}
        )
    assert response.status_code == 200, response.json()
    assert WebhookEvent.objects.filter(type="loan.disbursed").count() == 1
    assert len(delivered) == 1


@pytest.mark.parametrize("days_back", [0, 2])
def test_the_schedule_is_dated_from_the_confirmed_value_date(world, settings, days_back):
    settings.PAYMENTS_DISBURSEMENT_GATEWAY = "partner_channel"
    loan = _loan(world.draw())
    today = loan.requested_on + timedelta(days=2)
    business_date_set(new_date=today, reason="the partner reports two days later")
    value_date = today - timedelta(days=days_back)
    response = world.post(
        f"/api/v1/loans/{loan.pk}/disbursement/report",
        {"status": "confirmed", "amount": f"{loan.principal:.2f}", "value_date": value_date.isoformat()},
    )
    assert response.json()["outcome"] == "applied"
    loan.refresh_from_db()
    assert loan.disbursed_on == value_date
    assert loan.installments.order_by("number").first().start_date == value_date


def test_partner_reports_are_refused_for_a_gateway_instruction(world):
    loan = _loan(world.draw())
    response = world.post(
        f"/api/v1/loans/{loan.pk}/disbursement/report", {"status": "failed", "amount": f"{loan.principal:.2f}"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "not_partner_channel"
    loan.refresh_from_db()
    assert loan.state == Loan.State.CURRENT


def test_another_partners_loan_disbursement_answers_404(world, other):
    loan = _loan(other.draw())
    assert world.client.get(f"/api/v1/loans/{loan.pk}/disbursement").status_code == 404
    assert other.client.get(f"/api/v1/loans/{loan.pk}/disbursement").json()["state"] == "confirmed"
