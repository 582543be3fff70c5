"""Webhooks: events from lending after commit, signed over timestamp and body, retried with backoff, recorded."""

import json
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
from django.db import transaction
from django.utils import timezone

from core.close import days_close_until
from lending.services.credit_lines import credit_line_change_limit
from lending.services.loans import loan_drawdown
from lending.services.repayments import payoff_quote, repayment_post
from partners import webhooks
from partners.models import WebhookAttempt, WebhookEvent
from partners.services import webhook_endpoint_set


@pytest.fixture
def receiver(monkeypatch):
    """A partner endpoint on a mock transport: records requests, answers with the queued statuses (then 200)."""

    class Receiver:
        requests: list[httpx.Request] = []
        statuses: list[int] = []

        def handle(self, request):
            self.requests.append(request)
            status = self.statuses.pop(0) if self.statuses else 200
            if status == 0:
                raise httpx.ConnectError("connection refused")
            return httpx.Response(status, text="ok" if status == 200 else "nope")

    endpoint = Receiver()
    endpoint.requests, endpoint.statuses = [], []
    monkeypatch.setattr(webhooks, "http_client", lambda: httpx.Client(transport=httpx.MockTransport(endpoint.handle)))
    return endpoint


@pytest.fixture
def draw(django_capture_on_commit_callbacks):
    """A drawdown, disbursed, with its after-commit callbacks run as a real commit would."""

    def make(world):
        with django_capture_on_commit_callbacks(execute=True):
            return loan_drawdown(
                credit_line_id=world.line.pk, amount=Decimal("1000"), term_months=3, method="equal_installment",
                disburse=True,
            )  # fmt: skip

    return make


@pytest.fixture
def hooked(acme, receiver):
    """Acme with a webhook endpoint; returns its signing secret."""
    _, secret = webhook_endpoint_set(partner=acme.partner, url="https://acme.example/hooks")
    return secret


def test_a_drawdown_sends_a_signed_loan_disbursed_event(acme, hooked, receiver, draw):
    loan = draw(acme)

    (request,) = receiver.requests
    body = json.loads(request.content)
    assert body["type"] == "loan.disbursed" and body["data"]["loan_id"] == loan.pk
    assert body["data"]["principal"] == "1000.00"
    now = int(timezone.now().timestamp())
    header = request.headers[webhooks.SIGNATURE_HEADER]
    assert webhooks.webhook_signature_verify(secret=hooked, header=header, body=request.content, now=now)
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.DELIVERED and event.delivery_attempts.get().succeeded


def test_a_tampered_body_an_old_timestamp_or_another_secret_fail_verification(acme, hooked, receiver, draw):
    draw(acme)
    (request,) = receiver.requests
    header, body = request.headers[webhooks.SIGNATURE_HEADER], request.content
    now = int(timezone.now().timestamp())

    assert not webhooks.webhook_signature_verify(secret=hooked, header=header, body=body + b" ", now=now)
    assert not webhooks.webhook_signature_verify(secret=hooked, header=header, body=body, now=now + 301)
    assert not webhooks.webhook_signature_verify(secret="whsec_other", header=header, body=body, now=now)
    assert not webhooks.webhook_signature_verify(secret=hooked, header="garbage", body=body, now=now)


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    assert webhooks.webhook_signature(secret="s", timestamp=1700000000, body=b"{}") == (
        "t=1700000000,v1=" + __import__("hmac").new(b"s", b"1700000000.{}", "sha256").hexdigest()
    )


def test_a_failed_delivery_is_recorded_and_retried_with_exponential_backoff(acme, hooked, receiver, draw):
    receiver.statuses = [500, 0, 503]
    draw(acme)
    event = WebhookEvent.objects.get()
    first_at = event.delivery_attempts.get().attempted_at
    assert event.state == WebhookEvent.State.PENDING
    assert event.next_attempt_at == first_at + timedelta(seconds=30)

    assert webhooks.webhook_events_deliver_due(now=first_at + timedelta(seconds=29)) == 0
    assert webhooks.webhook_events_deliver_due(now=first_at + timedelta(seconds=30)) == 1
    second = WebhookEvent.objects.get()
    assert second.next_attempt_at == first_at + timedelta(seconds=30 + 60)
    webhooks.webhook_events_deliver_due(now=second.next_attempt_at)
    third = WebhookEvent.objects.get()
    webhooks.webhook_events_deliver_due(now=third.next_attempt_at)

    attempts = list(WebhookAttempt.objects.order_by("number"))
    assert [(a.number, a.status_code, a.succeeded) for a in attempts] == [
        (1, 500, False), (2, None, False), (3, 503, False), (4, 200, True),
    ]  # fmt: skip
    assert "ConnectError" in attempts[1].error
    assert WebhookEvent.objects.get().state == WebhookEvent.State.DELIVERED
    assert len({r.headers[webhooks.SIGNATURE_HEADER] for r in receiver.requests}) == 4  # re-signed each time


def test_after_the_last_attempt_the_event_is_marked_failed(acme, hooked, receiver, draw):
    receiver.statuses = [500] * webhooks.MAX_ATTEMPTS
    draw(acme)
    for _ in range(webhooks.MAX_ATTEMPTS):
        event = WebhookEvent.objects.get()
        webhooks.webhook_events_deliver_due(now=event.next_attempt_at)

    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.FAILED and event.attempts == webhooks.MAX_ATTEMPTS
    assert webhooks.webhook_events_deliver_due(now=timezone.now() + timedelta(days=30)) == 0


def test_the_backoff_doubles_up_to_its_cap():
    assert [webhooks.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert webhooks.backoff(20) == webhooks.BACKOFF_CAP


def test_no_event_is_queued_for_a_partner_without_an_endpoint(acme, globex, hooked, receiver, draw):
    draw(globex)

    assert not WebhookEvent.objects.exists() and not receiver.requests


def test_a_rolled_back_drawdown_sends_nothing(acme, hooked, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        loan_drawdown(
            credit_line_id=acme.line.pk, amount=Decimal("1000"), term_months=3, method="equal_installment",
            disburse=True,
        )  # fmt: skip
        raise RuntimeError("the caller fails after the drawdown")

    assert not WebhookEvent.objects.exists() and not receiver.requests


def test_a_limit_change_sends_credit_line_changed(acme, hooked, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        credit_line_change_limit(credit_line_id=acme.line.pk, new_limit=Decimal("60000"), reason="review")

    event = WebhookEvent.objects.get()
    assert event.type == "credit_line.changed"
    assert event.payload["field"] == "limit" and event.payload["new_value"] == "60000.00"


def test_paying_off_a_loan_sends_loan_paid_off(acme, hooked, receiver, django_capture_on_commit_callbacks):
    amount = payoff_quote(loan=acme.loan, on_date=date(2031, 1, 15), today=date(2031, 1, 15)).amount
    with django_capture_on_commit_callbacks(execute=True):
        repayment_post(loan_id=acme.loan.pk, amount=amount)

    assert WebhookEvent.objects.get().type == "loan.paid_off"


def test_the_close_of_day_sends_installment_overdue_in_bulk_for_each_partner(
    acme, globex, hooked, receiver, django_capture_on_commit_callbacks
):
    webhook_endpoint_set(partner=globex.partner, url="https://globex.example/hooks")

    with django_capture_on_commit_callbacks(execute=True):
        days_close_until(until=date(2031, 2, 16))

    overdue = WebhookEvent.objects.filter(type="installment.overdue").order_by("partner_id")
    assert [(e.partner_id, e.payload["loan_id"], e.payload["installment_number"]) for e in overdue] == [
        (acme.partner.pk, acme.loan.pk, 1), (globex.partner.pk, globex.loan.pk, 1),
    ]  # fmt: skip
    frozen = WebhookEvent.objects.filter(type="credit_line.changed", payload__new_value="frozen")
    assert {e.partner_id for e in frozen} == {acme.partner.pk, globex.partner.pk}
    assert all(e.state == WebhookEvent.State.DELIVERED for e in WebhookEvent.objects.all())
