"""The scheduled close: close every business date whose cut-off has passed."""

from datetime import date, datetime, time

from django.utils import timezone

from core.business_date import business_date_current
from core.close import days_close_until
from core.cutoff import last_closable_date
from core.errors import DomainError


def days_close_due(*, now: datetime, cutoff: time) -> list[date]:
    """Close every open date whose cut-off (core.cutoff) has passed at `now`; nothing when none has.

    Beat runs it at the cut-off. Running it again, or while another close is running, closes nothing twice.
    """
    until = last_closable_date(now_local=timezone.localtime(now), cutoff=cutoff)
    if business_date_current() > until:
        return []
    try:
        return days_close_until(until=until)
    except DomainError as error:
        if error.code == "close_running":
            return []
        raise
