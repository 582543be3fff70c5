"""The partner API's close-of-day step: forget idempotency keys past their expiry."""

from datetime import date

from django.utils import timezone

from core.close import close_step
from partners.idempotency import idempotency_purge


@close_step("partners.purge_idempotency_keys", order=900)
def purge_idempotency_keys(*, business_date: date, progress) -> dict:
    return {"purged": idempotency_purge(now=timezone.now())}
