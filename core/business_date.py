"""Reading and moving the business date.

Services that stamp the business date on what they write call
`business_date_for_write()` inside their transaction: it holds the
business-date lock shared until commit, so the close of day (which takes it
exclusively to seal the day and move the date) never seals a day while a
write for that day is still in flight.
"""

from datetime import date, timedelta

from django.db import transaction

from core.errors import DomainError
from core.locks import BUSINESS_DATE_LOCK, advisory_xact_lock
from core.models import BusinessCalendar, CloseStepRun

# The history table's change-reason column (django-simple-history) holds 100 characters.
REASON_MAX_LENGTH = 100


def business_date_current() -> date:
    return BusinessCalendar.objects.values_list("current_date", flat=True).get(pk=BusinessCalendar.SINGLETON_ID)


def business_date_for_write() -> date:
    """The open business date, held steady until the caller's transaction ends."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("business_date_for_write() must be called inside transaction.atomic()")
    if connection.vendor != "postgresql":
        return business_date_current()
    # One round trip for the lock and the read: this runs in every money-moving transaction.
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT pg_advisory_xact_lock_shared(%s), "current_date" FROM core_businesscalendar WHERE id = %s',
            [BUSINESS_DATE_LOCK, BusinessCalendar.SINGLETON_ID],
        )
        return cursor.fetchone()[1]


def business_date_lock_for_close() -> BusinessCalendar:
    """Take the business date exclusively (inside the caller's transaction) and return the row."""
    advisory_xact_lock(BUSINESS_DATE_LOCK)
    return BusinessCalendar.objects.select_for_update().get(pk=BusinessCalendar.SINGLETON_ID)


def business_date_advance(*, calendar: BusinessCalendar, closed_date: date) -> date:
    """Open the day after `closed_date`; the caller holds the calendar lock."""
    if calendar.current_date != closed_date:
        raise DomainError(
            "business_date_moved",
            f"business date is {calendar.current_date}, not {closed_date}; another close ran",
        )
    calendar.current_date = closed_date + timedelta(days=1)
    calendar._change_reason = f"close of day {closed_date.isoformat()}"
    calendar.save(update_fields=["current_date"])
    return calendar.current_date


@transaction.atomic
def business_date_set(*, new_date: date, reason: str) -> date:
    """Move the business date by hand (set-up, demos, tests).

    Refused once any close has started at or after `new_date` (closed days
    cannot be reopened) and while the open date's close is half done (it
    would leave a day unsealed).
    """
    if not reason:
        raise DomainError("reason_required", "a reason is required", field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise DomainError("reason_too_long", f"a reason has at most {REASON_MAX_LENGTH} characters", field="reason")
    calendar = business_date_lock_for_close()
    if CloseStepRun.objects.filter(business_date__gte=new_date).exists():
        raise DomainError(
            "business_date_closed",
            f"{new_date.isoformat()} is on or before a day that has been closed",
            field="new_date",
        )
    if CloseStepRun.objects.filter(business_date=calendar.current_date).exists():
        raise DomainError(
            "close_in_progress",
            f"the close of {calendar.current_date.isoformat()} has started; finish it with close_day",
            field="new_date",
        )
    calendar.current_date = new_date
    calendar._change_reason = reason
    calendar.save(update_fields=["current_date"])
    return new_date
