"""Celery tasks of the core: one chunk of a close-of-day step, and the nightly close at the cut-off."""

from datetime import date

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from core.close import chunk_run
from core.close_due import days_close_due
from core.cutoff import cutoff_parse

MINUTE = 60


# Killed or lost mid-chunk, the chunk's transaction never committed: the message goes back to the queue and
# another worker redoes it (the close driver waits for every chunk).
@shared_task(acks_late=True, reject_on_worker_lost=True)
def close_chunk_task(handler: str, business_date: str, ids: list[int]) -> dict:
    return chunk_run(handler=handler, business_date=date.fromisoformat(business_date), ids=ids)


# The driver waits for its chunks, so it gets the whole close's time; a redelivered driver re-runs the close,
# which skips finished steps and refuses to run beside another close.
@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=240 * MINUTE, time_limit=245 * MINUTE)
def close_of_day_task() -> dict:
    closed = days_close_due(now=timezone.now(), cutoff=cutoff_parse(settings.CLOSE_OF_DAY_CUTOFF))
    return {"closed": [day.isoformat() for day in closed]}
