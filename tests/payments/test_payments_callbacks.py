"""Gateway callbacks: signed, idempotent by reference, out-of-order safe; bad ones refused and recorded."""

import json

import pytest

from ledger.models import JournalEntry
from lending.models import Loan
from lending.services.loans import loan_cancel
from payments.models import CallbackLog, Disbursement


@pytest.fixture
def waiting(world, gateway_rates):
    """A drawdown the gateway accepted and has not answered yet."""
    gateway_rates(delay_rate=1.0)
    response = world.draw()
    assert response.status_code == 201, response.json()
    return Disbursement.objects.get(loan_id=response.json()["id"])


def _state(disbursement):
    disbursement.refresh_from_db()
    disbursement.loan.refresh_from_db()
    return disbursement.state, disbursement.loan.state


def _entries() -> int:
    return JournalEntry.objects.count()


def test_a_signed_confirmation_disburses_the_loan(waiting, signed_callback, report_of):
    response = signed_callback(report_of(waiting))
    assert response.status_code == 200, response.json()
    assert response.json()["outcome"] == "applied"
    assert _state(waiting) == ("confirmed", "current")
    assert waiting.gateway_reference == f"GW-{waiting.reference}"


def test_a_duplicate_confirmation_has_no_second_effect(waiting, signed_callback, report_of):
    signed_callback(report_of(waiting))
    entries = _entries()
    again = signed_callback(report_of(waiting))
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert _entries() == entries
    assert JournalEntry.objects.filter(kind="disbursement").count() == 1


def test_a_confirmation_after_a_failure_is_flagged_and_changes_nothing(waiting, signed_callback, report_of):
    assert signed_callback(report_of(waiting, "failed", reason="card frozen")).json()["outcome"] == "applied"
    assert _state(waiting) == ("failed", "cancelled")
    entries = _entries()
    response = signed_callback(report_of(waiting))
    assert response.json()["outcome"] == "conflict"
    assert _state(waiting) == ("failed", "cancelled")
    assert waiting.needs_review and "confirmed after" in waiting.review_note
    assert _entries() == entries


def test_a_failure_after_a_confirmation_is_stale(waiting, signed_callback, report_of):
    signed_callback(report_of(waiting))
    response = signed_callback(report_of(waiting, "failed"))
    assert response.json()["outcome"] == "stale"
    assert _state(waiting) == ("confirmed", "current")


def test_a_late_confirmation_for_a_cancelled_loan_is_recorded_not_posted(waiting, signed_callback, report_of):
    loan_cancel(loan_id=waiting.loan_id, reason="borrower withdrew")
    entries = _entries()
    response = signed_callback(report_of(waiting))
    assert response.json()["outcome"] == "conflict"
    assert _state(waiting) == ("confirmed", "cancelled")
    assert waiting.needs_review
    assert _entries() == entries


@pytest.mark.parametrize(
    ("mangle", "status", "code"),
    [
        (lambda send, body: send(body, signature="0" * 64), 401, "bad_signature"),
        (lambda send, body: send(body, signature=""), 401, "bad_signature"),
        (lambda send, body: send({**body, "reference": "DNOSUCHREFERENCE"}), 404, "unknown_reference"),
        (lambda send, body: send({**body, "amount": "1.00"}), 422, "amount_mismatch"),
        (lambda send, body: send({**body, "amount": 1e3}), 400, "malformed"),
        (lambda send, body: send({**body, "status": "maybe"}), 400, "malformed"),
        (lambda send, body: send({**body, "value_date": "2031-02-30"}), 400, "malformed"),
        (lambda send, body: send(raw=b"{not json"), 400, "malformed"),
        (lambda send, body: send(raw=b"\x00"), 400, "malformed"),  # PostgreSQL text cannot hold NUL: logged as U+FFFD
        (lambda send, body: send(raw=json.dumps([body]).encode()), 400, "malformed"),
        (lambda send, body: send(body, gateway="nosuchgateway"), 404, "unknown_gateway"),
        (lambda send, body: send(body, gateway="partner_channel"), 400, "wrong_route"),
    ],
)
def test_bad_callbacks_are_refused_recorded_and_post_nothing(waiting, signed_callback, report_of, mangle, status, code):
    entries = _entries()
    response = mangle(signed_callback, report_of(waiting))
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    log = CallbackLog.objects.filter(source="callback").get()
    assert log.outcome == "refused" and log.detail.startswith(code)
    assert _state(waiting) == ("sent", "pending")
    assert _entries() == entries


def test_a_huge_body_is_refused_and_recorded(waiting, signed_callback):
    response = signed_callback(raw=b"{" + b" " * 70_000 + b"}")
    assert response.status_code == 413
    assert CallbackLog.objects.get(source="callback").outcome == "refused"


def test_the_partner_channel_reports_a_failure_once(world, settings):
    settings.PAYMENTS_DISBURSEMENT_GATEWAY = "partner_channel"
    loan = Loan.objects.get(pk=world.draw().json()["id"])
    body = {"status": "failed", "amount": f"{loan.principal:.2f}", "reason": "wallet closed"}
    first = world.post(f"/api/v1/loans/{loan.pk}/disbursement/report", body)
    second = world.post(f"/api/v1/loans/{loan.pk}/disbursement/report", body)
    assert (first.json()["outcome"], second.json()["outcome"]) == ("applied", "duplicate")
    loan.refresh_from_db()
    assert loan.state == Loan.State.CANCELLED
    assert CallbackLog.objects.filter(source="partner").count() == 2
