"""Outbound webhooks: events built in bulk from lending's signals, signed, delivered with retries.

Signature: header `Lending-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
The timestamp is signed with the body, so a receiver that refuses old
timestamps (5 minutes in the README's snippet) refuses replays.

Delivery: one attempt per call, recorded as a `WebhookAttempt`. A failure
(no answer, or not 2xx) schedules the next attempt after an exponential
backoff (30 s, 1 min, 2 min … capped at 6 h); after `MAX_ATTEMPTS` the event
is marked failed. With a broker the retry is a delayed Celery task; without
one (eager tasks run in the request) retries wait for `deliver_webhooks`,
which also picks up any event whose task was lost.
"""

import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from lending.models import CreditLineChange, Installment, Loan
from partners.models import WebhookAttempt, WebhookEvent
from underwriting.models import Application

SIGNATURE_HEADER = "Lending-Signature"
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)
TIMEOUT_SECONDS = 10


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def webhook_signature_verify(*, secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a partner does on receipt (the README shows the same in a few lines)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = webhook_signature(secret=secret, timestamp=timestamp, body=body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def backoff(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`, after `attempts` failures."""
    return min(BACKOFF_BASE * 2 ** (attempts - 1), BACKOFF_CAP)


# --- events from lending's signals (one query to read, one insert, per signal) --------------------

_WITH_ENDPOINT = "webhook_endpoint__is_active"


def _events_create(type_: str, rows: list[tuple[int, dict]]) -> list[WebhookEvent]:
    now = timezone.now()
    events = WebhookEvent.objects.bulk_create(
        [
            WebhookEvent(partner_id=partner_id, type=type_, payload=payload, next_attempt_at=now)
            for partner_id, payload in rows
        ]
    )
    if events and not settings.CELERY_TASK_ALWAYS_EAGER:
        from partners.tasks import webhook_deliver_task

        for event in events:
            webhook_deliver_task.delay(event.pk)
    elif events:
        for event in events:
            webhook_event_deliver(event_id=event.pk)
    return events


def _loan_rows(loan_ids: list[int]) -> list[tuple[int, dict]]:
    loans = (
        Loan.objects.filter(pk__in=loan_ids, **{f"credit_line__borrower__partner__{_WITH_ENDPOINT}": True})
        .values(
            "pk",
            "number",
            "state",
            "principal",
            "principal_outstanding",
            "disbursed_on",
            "closed_on",
            "credit_line_id",
            "credit_line__borrower_id",
            "credit_line__borrower__partner_id",
        )  # fmt: skip
        .order_by("pk")
    )
    return [
        (
            row["credit_line__borrower__partner_id"],
            {
                "loan_id": row["pk"],
                "loan_number": row["number"],
                "credit_line_id": row["credit_line_id"],
                "borrower_id": row["credit_line__borrower_id"],
                "state": row["state"],
                "principal": str(row["principal"]),
                "principal_outstanding": str(row["principal_outstanding"]),
                "disbursed_on": row["disbursed_on"],
                "closed_on": row["closed_on"],
            },
        )
        for row in loans
    ]


def on_loans(type_: str):
    def receiver(sender, loan_ids, **kwargs):
        _events_create(type_, _loan_rows(loan_ids))

    return receiver


def on_installments_overdue(sender, installment_ids, **kwargs):
    rows = (
        Installment.objects.filter(
            pk__in=installment_ids, **{f"loan__credit_line__borrower__partner__{_WITH_ENDPOINT}": True}
        )
        .values(
            "loan_id", "number", "due_date", "principal", "interest", "fee", "loan__credit_line__borrower__partner_id"
        )
        .order_by("loan_id", "number")
    )
    _events_create(
        WebhookEvent.Type.INSTALLMENT_OVERDUE,
        [
            (
                row["loan__credit_line__borrower__partner_id"],
                {
                    "loan_id": row["loan_id"],
                    "installment_number": row["number"],
                    "due_date": row["due_date"],
                    "amount_due": str(row["principal"] + row["interest"] + row["fee"]),
                },
            )
            for row in rows
        ],
    )


def on_applications_decided(sender, application_ids, **kwargs):
    rows = (
        Application.objects.filter(pk__in=application_ids, **{f"partner__{_WITH_ENDPOINT}": True})
        .values("pk", "partner_id", "borrower_id", "state", "offered_limit", "offered_rate", "reasons", "decided_on")
        .order_by("pk")
    )
    _events_create(
        WebhookEvent.Type.APPLICATION_DECIDED,
        [
            (
                row["partner_id"],
                {
                    "application_id": row["pk"],
                    "borrower_id": row["borrower_id"],
                    "state": row["state"],
                    "limit": None if row["offered_limit"] is None else str(row["offered_limit"]),
                    "daily_rate": None if row["offered_rate"] is None else str(row["offered_rate"]),
                    "reasons": [{"code": r["code"], "message": r["message"]} for r in row["reasons"]],
                    "decided_on": row["decided_on"],
                },
            )
            for row in rows
        ],
    )

def on_credit_line_changes(sender, change_ids, **kwargs):
    rows = (
        CreditLineChange.objects.filter(
            pk__in=change_ids, **{f"credit_line__borrower__partner__{_WITH_ENDPOINT}": True}
        )
        .values(
            "credit_line_id",
            "field",
            "old_value",
            "new_value",
            "reason",
            "business_date",
            "credit_line__borrower_id",
            "credit_line__borrower__partner_id",
        )  # fmt: skip
        .order_by("pk")
    )
    _events_create(
        WebhookEvent.Type.CREDIT_LINE_CHANGED,
        [
            (
                row["credit_line__borrower__partner_id"],
                {
                    "credit_line_id": row["credit_line_id"],
                    "borrower_id": row["credit_line__borrower_id"],
                    "field": row["field"],
                    "old_value": row["old_value"],
                    "new_value": row["new_value"],
                    "reason": row["reason"],
                    "business_date": row["business_date"],
                },
            )
            for row in rows
        ],
    )


# --- delivery ----------------------------------------------------------------------------------------


def http_client() -> httpx.Client:
    """The client deliveries use (tests replace it with one on a mock transport)."""
    return httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)


def event_body(event: WebhookEvent) -> bytes:
    envelope = {"id": event.pk, "type": event.type, "created_at": event.created_at, "data": event.payload}
    return json.dumps(envelope, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":")).encode()


def webhook_event_deliver(*, event_id: int, now: datetime | None = None) -> WebhookEvent | None:
    """One delivery attempt of a pending event that is due; None when there is nothing to do.

    The event row stays locked during the attempt, so two workers never send it twice at once.
    """
    now = now or timezone.now()
    with transaction.atomic():
        event = (
            WebhookEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("partner__webhook_endpoint")
            .filter(pk=event_id, state=WebhookEvent.State.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if event is None:
            return None
        endpoint = event.partner.webhook_endpoint
        body = event_body(event)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: webhook_signature(secret=endpoint.secret, timestamp=int(now.timestamp()), body=body),
            "Lending-Event-Id": str(event.pk),
            "Lending-Event-Type": event.type,
        }
        started = time.monotonic()
        status, excerpt, error = None, "", ""
        try:
            with http_client() as client:
                response = client.post(endpoint.url, content=body, headers=headers)
            status, excerpt = response.status_code, response.text[:500]
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        succeeded = status is not None and 200 <= status < 300
        event.attempts += 1
        WebhookAttempt.objects.create(
            event=event, number=event.attempts, url=endpoint.url, attempted_at=now, status_code=status,
            response_excerpt=excerpt, error=error, duration_ms=int((time.monotonic() - started) * 1000),
            succeeded=succeeded,
        )  # fmt: skip
        if succeeded:
            event.state, event.delivered_at = WebhookEvent.State.DELIVERED, now
        elif event.attempts >= MAX_ATTEMPTS:
            event.state = WebhookEvent.State.FAILED
        else:
            event.next_attempt_at = now + backoff(event.attempts)
            if not settings.CELERY_TASK_ALWAYS_EAGER:
                from partners.tasks import webhook_deliver_task

                delay = backoff(event.attempts).total_seconds()
                transaction.on_commit(lambda: webhook_deliver_task.apply_async((event.pk,), countdown=delay))
        event.save(update_fields=["attempts", "state", "delivered_at", "next_attempt_at"])
        return event


def webhook_events_deliver_due(*, now: datetime | None = None) -> int:
    """Attempt every pending event that is due; returns how many were attempted."""
    now = now or timezone.now()
    ids = WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING, next_attempt_at__lte=now).values_list(
        "pk", flat=True
    )
    return sum(webhook_event_deliver(event_id=event_id, now=now) is not None for event_id in list(ids))
