"""Behaviour re-scoring of credit lines, vectorised over a whole chunk of lines at once (numpy, no ORM).

The behaviour PD starts from the PD at application and moves with what
the line has done since: late payments and 30+ DPD episodes in the
look-back push it up, time on book without trouble brings it down, a line
drawn to the brim adds risk. Then each line is raised, lowered, frozen or
left alone, with the reasons recorded.
"""

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from core.money import round_fen
from underwriting.rules import REGULATORY_MAX_LIMIT

KEEP, RAISE, LOWER, FREEZE = 0, 1, 2, 3
ACTION_NAMES = {RAISE: "raise", LOWER: "lower", FREEZE: "freeze"}
MIN_MONTHS_FOR_RAISE = 3


@dataclass(frozen=True)
class Params:
    raise_pd: float
    lower_pd: float
    freeze_pd: float
    raise_utilisation: float
    step: float
    income_cap_ratio: float
    limit_step: float


@dataclass(frozen=True)
class Lines:
    """One array per attribute, one element per line."""

    limit: np.ndarray
    used: np.ndarray
    application_pd: np.ndarray
    months_on_book: np.ndarray
    late_episodes: np.ndarray  # moves into M1 in the look-back
    severe_episodes: np.ndarray  # moves into M2 or worse in the look-back
    overdue_now: np.ndarray  # bool
    monthly_income: np.ndarray  # 0 when unknown
    product_min: np.ndarray
    product_max: np.ndarray


def behaviour_pd(lines: Lines) -> np.ndarray:
    base = np.clip(lines.application_pd, 1e-4, 1 - 1e-4)
    utilisation = np.divide(lines.used, lines.limit, out=np.zeros_like(lines.used), where=lines.limit > 0)
    logit = (
        np.log(base / (1 - base))
        + 0.9 * np.minimum(lines.late_episodes, 3)
        + 1.8 * np.minimum(lines.severe_episodes, 2)
        + 1.5 * lines.overdue_now
        + 0.6 * (utilisation > 0.95)
        - 0.08 * np.minimum(lines.months_on_book, 12) * (lines.late_episodes == 0)
    )
    return 1 / (1 + np.exp(-logit))


def reassess(lines: Lines, params: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(action per line, new limit per line, behaviour PD per line)."""
    pd = behaviour_pd(lines)
    utilisation = np.divide(lines.used, lines.limit, out=np.zeros_like(lines.used), where=lines.limit > 0)
    income_cap = np.where(lines.monthly_income > 0, lines.monthly_income * 12 * params.income_cap_ratio, np.inf)
    ceiling = np.minimum(np.minimum(lines.product_max, float(REGULATORY_MAX_LIMIT)), income_cap)
    step = params.limit_step
    raised = np.minimum(np.floor(lines.limit * (1 + params.step) / step) * step, np.floor(ceiling / step) * step)
    lowered = np.maximum(np.floor(lines.limit * (1 - params.step) / step) * step, lines.product_min)

    action = np.full(len(pd), KEEP)
    can_raise = (
        (pd < params.raise_pd)
        & (utilisation >= params.raise_utilisation)
        & (lines.late_episodes == 0)
        & (lines.severe_episodes == 0)
        & (lines.months_on_book >= MIN_MONTHS_FOR_RAISE)
        & (raised > lines.limit)
    )
    action[can_raise] = RAISE
    action[(pd >= params.lower_pd) & (lowered < lines.limit)] = LOWER
    action[pd >= params.freeze_pd] = FREEZE
    new_limit = np.select([action == RAISE, action == LOWER], [raised, lowered], lines.limit)
    return action, new_limit, pd


def reasons_for(lines: Lines, i: int, action: int) -> list[str]:
    """Readable reasons for line i's change."""
    reasons = []
    if lines.severe_episodes[i]:
        reasons.append(f"{int(lines.severe_episodes[i])} episode(s) more than 30 days past due")
    if lines.late_episodes[i]:
        reasons.append(f"{int(lines.late_episodes[i])} late payment(s)")
    if lines.overdue_now[i]:
        reasons.append("a loan is overdue now")
    if action == RAISE:
        used_share = lines.used[i] / lines.limit[i] if lines.limit[i] else 0
        reasons.append(
            f"repaid on time for {int(lines.months_on_book[i])} months, {used_share:.0%} of the limit in use"
        )
    return reasons or ["behaviour score"]


def as_decimal_limit(value: float) -> Decimal:
    """A limit computed in numpy as Decimal: its shortest float repr, rounded by the money helper."""
    return round_fen(repr(float(value)))
