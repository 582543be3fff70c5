"""Collections conduct rules and queues (pure: no ORM).

DOMAIN.md "Collections conduct": at most 3 connected calls a day per debtor
across all collectors; no contact between 22:00 and 08:00 of the debtor's
local time; contact the debtor only. The clock is the time of the attempt,
read in the debtor's time zone, never the business date.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from lending.delinquency import BUCKETS

CONTACT_FROM = time(8, 0)
CONTACT_UNTIL = time(22, 0)  # exclusive: 22:00:00 is already quiet time
MAX_CONNECTED_CALLS_PER_DAY = 3
# Outcomes in which the debtor was reached on the phone: these count towards the daily limit.
CONNECTED_OUTCOMES = frozenset({"connected", "promise", "refused", "dispute"})

EARLY, INTENSIVE, RECOVERY = "early", "intensive", "recovery"


def queue_for_bucket(bucket: str) -> str:
    """M1 soft reminders, M2–M3 intensive, M4 and beyond recovery and legal."""
    index = BUCKETS.index(bucket)
    if index <= 1:
        return EARLY
    if index <= 3:
        return INTENSIVE
    return RECOVERY


@dataclass(frozen=True)
class Refusal:
    rule: str
    message: str


def is_connected_call(channel: str, outcome: str) -> bool:
    return channel == "call" and outcome in CONNECTED_OUTCOMES


def local_day_bounds(moment: datetime, time_zone: str) -> tuple[datetime, datetime]:
    """The debtor's local calendar day containing `moment`, as aware datetimes [start, end)."""
    local = moment.astimezone(ZoneInfo(time_zone))
    start = datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)
    return start, datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=local.tzinfo)


def contact_refusal(
    *, moment: datetime, time_zone: str, party: str, channel: str, outcome: str, connected_calls_today: int
) -> Refusal | None:
    """The first conduct rule a contact at `moment` would break, or None when it is allowed."""
    if party != "debtor":
        return Refusal("debtor_only", "only the debtor may be contacted, never family, employers or listed contacts")
    local = moment.astimezone(ZoneInfo(time_zone))
    if not CONTACT_FROM <= local.time() < CONTACT_UNTIL:
        return Refusal(
            "quiet_hours",
            f"no contact between 22:00 and 08:00 of the debtor's local time ({time_zone}); it is {local:%H:%M} there",
        )
    if is_connected_call(channel, outcome) and connected_calls_today >= MAX_CONNECTED_CALLS_PER_DAY:
        return Refusal(
            "daily_call_limit",
            f"the debtor has had {connected_calls_today} connected calls today (local time); "
            f"at most {MAX_CONNECTED_CALLS_PER_DAY} a day across all collectors",
        )
    return None


def next_allowed_contact(*, now: datetime, time_zone: str, connected_calls_today: int) -> datetime:
    """The earliest moment from `now` at which a call may be made (and, if connected, logged).

    Once the daily limit is reached, that is 08:00 of the next local day;
    otherwise now, or the end of the quiet hours.
    """
    zone = ZoneInfo(time_zone)
    local = now.astimezone(zone)
    if connected_calls_today >= MAX_CONNECTED_CALLS_PER_DAY or local.time() >= CONTACT_UNTIL:
        return datetime.combine(local.date() + timedelta(days=1), CONTACT_FROM, tzinfo=zone)
    if local.time() < CONTACT_FROM:
        return datetime.combine(local.date(), CONTACT_FROM, tzinfo=zone)
    return local
