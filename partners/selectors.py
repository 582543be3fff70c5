"""Partner-scoped reads: every query of the partner API starts from one of these, so isolation is one place."""

from datetime import date, datetime, time, timedelta

from django.db.models import F
from django.utils import timezone

from lending.models import Borrower, CreditLine, Loan, Partner
from underwriting.models import Application


def borrowers(partner: Partner):
    return Borrower.objects.filter(partner=partner)


def credit_lines(partner: Partner):
    return CreditLine.objects.filter(borrower__partner=partner).select_related("product")


def loans(partner: Partner):
    # Only the borrower's id is needed from the line: one column, not the whole joined row.
    rows = Loan.objects.filter(credit_line__borrower__partner=partner)
    return rows.annotate(borrower_id=F("credit_line__borrower_id"))


def applications(partner: Partner):
    return Application.objects.filter(partner=partner)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def borrower_list(*, partner: Partner, created_from: date | None = None, created_to: date | None = None):
    rows = borrowers(partner).order_by("-pk")
    if created_from:
        rows = rows.filter(created_at__gte=_day_start(created_from))
    if created_to:
        rows = rows.filter(created_at__lt=_day_start(created_to + timedelta(days=1)))
    return rows


def credit_line_list(*, partner: Partner, borrower_id: int | None = None, state: str | None = None):
    rows = credit_lines(partner).order_by("-pk")
    if borrower_id:
        rows = rows.filter(borrower_id=borrower_id)
    if state:
        rows = rows.filter(state=state)
    return rows


def loan_list(
    *,
    partner: Partner,
    state: str | None = None,
    borrower_id: int | None = None,
    credit_line_id: int | None = None,
    requested_from: date | None = None,
    requested_to: date | None = None,
):
    rows = loans(partner).order_by("-pk")
    if state:
        rows = rows.filter(state=state)
    if borrower_id:
        rows = rows.filter(credit_line__borrower_id=borrower_id)
    if credit_line_id:
        rows = rows.filter(credit_line_id=credit_line_id)
    if requested_from:
        rows = rows.filter(requested_on__gte=requested_from)
    if requested_to:
        rows = rows.filter(requested_on__lte=requested_to)
    return rows


def application_list(
    *,
    partner: Partner,
    state: str | None = None,
    decision: str | None = None,
    borrower_id: int | None = None,
    submitted_from: date | None = None,
    submitted_to: date | None = None,
):
    rows = applications(partner).order_by("-pk")
    if state:
        rows = rows.filter(state=state)
    if decision:
        rows = rows.filter(automated_decision=decision)
    if borrower_id:
        rows = rows.filter(borrower_id=borrower_id)
    if submitted_from:
        rows = rows.filter(submitted_on__gte=submitted_from)
    if submitted_to:
        rows = rows.filter(submitted_on__lte=submitted_to)
    return rows
