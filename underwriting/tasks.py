"""Celery tasks of underwriting: thin callers of the services, safe to run twice."""

from celery import shared_task

from underwriting.limits import limits_reassess


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=60 * 60, time_limit=65 * 60)
def limits_reassess_task() -> dict:
    # A second run on the same day skips the lines the first one changed (cool-off) and changes nothing else.
    return limits_reassess()
