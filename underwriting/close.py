"""Underwriting's close-of-day step: applications left in manual review too long expire."""

from datetime import date

from core.close import close_step
from underwriting.services import applications_expire


@close_step("underwriting.expire_reviews", order=500)
def expire_reviews(*, business_date: date, progress) -> dict:
    return {"expired": applications_expire(business_date=business_date)}
