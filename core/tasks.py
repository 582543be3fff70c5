"""Celery tasks of the core: one chunk of a close-of-day step."""

from datetime import date

from celery import shared_task

from core.close import chunk_run


@shared_task(acks_late=True, reject_on_worker_lost=True)
def close_chunk_task(handler: str, business_date: str, ids: list[int]) -> dict:
    return chunk_run(handler=handler, business_date=date.fromisoformat(business_date), ids=ids)
