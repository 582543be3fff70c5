"""The auto-debit plan as pure functions: how much to ask for, and on which days.

No ORM here, so the rules can be checked exhaustively: an attempt never asks
for more than is due less what is already being collected, and the
attempts stop when nothing is due or the retry window has passed.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.money import ZERO, round_fen


@dataclass(frozen=True)
class DebitSchedule:
    rounds_per_day: int  # attempts per loan per business date (the close step is round 1)
    retry_days: int  # business dates after the oldest unpaid due date on which rounds still run


def debit_amount(*, due: Decimal, in_flight: Decimal) -> Decimal:
    """What the next attempt asks for: what is due, less what instructions not yet answered may still collect."""
    return max(round_fen(due) - round_fen(in_flight), ZERO)


def round_allowed(*, schedule: DebitSchedule, rounds_done_today: int, oldest_due: date, today: date) -> bool:
    return rounds_done_today < schedule.rounds_per_day and 0 <= (today - oldest_due).days <= schedule.retry_days
