"""When a business day may be closed: the configured cut-off time on the business time zone's wall clock.

Business date D's cut-off is the first `cutoff` o'clock after noon on D: a
cut-off of 22:00 closes D the same evening, one of 00:30 closes it half an
hour after midnight. Pure functions, no ORM.
"""

from datetime import date, datetime, time, timedelta

NOON = time(12)


def cutoff_parse(value: str) -> time:
    """'HH:MM' (24-hour) → time; ValueError naming the rule otherwise."""
    try:
        parsed = datetime.strptime(value, "%H:%M").time()
    except ValueError:
        raise ValueError(f"the close-of-day cut-off must be HH:MM (24-hour), got {value!r}") from None
    return parsed


def last_closable_date(*, now_local: datetime, cutoff: time) -> date:
    """The latest business date whose cut-off has passed at `now_local` (wall-clock time in the business zone)."""
    today = now_local.date()
    passed_today = now_local.time() >= cutoff
    if cutoff >= NOON:
        return today if passed_today else today - timedelta(days=1)
    return today - timedelta(days=1) if passed_today else today - timedelta(days=2)
