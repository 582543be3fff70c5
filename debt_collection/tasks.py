"""Celery tasks of collections: thin callers of the services, safe to run twice."""

from celery import shared_task

from core.business_date import business_date_current
from debt_collection.close import promises_review


# Hourly: a debtor who paid today stops being chased now, not after the close; the close breaks the unkept ones.
@shared_task(acks_late=True)
def promises_check_task() -> dict:
    return promises_review(business_date=business_date_current(), break_due=False)
