"""Celery tasks of the partner integration: thin, idempotent, acknowledged late."""

from celery import shared_task

from partners.webhooks import webhook_event_deliver


@shared_task(acks_late=True)
def webhook_deliver_task(event_id: int) -> None:
    webhook_event_deliver(event_id=event_id)
