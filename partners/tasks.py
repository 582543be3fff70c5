"""Celery tasks of the partner integration: thin, idempotent, acknowledged late."""

from celery import shared_task
from django.utils import timezone

from partners.idempotency import idempotency_purge
from partners.webhooks import webhook_event_deliver, webhook_events_due_ids

MINUTE = 60
# Events a sweep hands out at once; a backlog larger than this drains over the following sweeps.
SWEEP_LIMIT = 10_000


# A worker lost mid-delivery rolled the attempt back (nothing recorded): the message goes back to the queue and
# the event is sent again. At least once on the wire, recorded once.
@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=MINUTE, time_limit=2 * MINUTE)
def webhook_deliver_task(event_id: int) -> None:
    webhook_event_deliver(event_id=event_id)


# The sweep behind the per-event retries: whatever is due and was not sent (a lost message, a broker outage,
# a retry that Redis handed out before its time) gets a delivery task.
@shared_task(acks_late=True)
def webhook_events_due_task() -> int:
    ids = webhook_events_due_ids(now=timezone.now(), limit=SWEEP_LIMIT)
    for event_id in ids:
        webhook_deliver_task.delay(event_id)
    return len(ids)


@shared_task(acks_late=True)
def idempotency_keys_purge_task() -> int:
    return idempotency_purge(now=timezone.now())
