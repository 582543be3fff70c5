"""Quotes: a schedule with its totals and the all-in APR, computed without touching the database."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.money import ZERO
from lending.apr import AprResult, apr_for_schedule
from lending.schedules import (
    RepaymentMethod,
    ScheduleLine,
    ScheduleTotals,
    schedule_for_new_loan,
    schedule_totals,
)


@dataclass(frozen=True)
class Quote:
    lines: list[ScheduleLine]
    totals: ScheduleTotals
    apr: AprResult


def quote_build(
    *,
    principal: Decimal,
    daily_rate: Decimal,
    method: RepaymentMethod,
    term_months: int,
    start_date: date,
    monthly_fee_rate: Decimal = ZERO,
    upfront_fee: Decimal = ZERO,
) -> Quote:
    lines = schedule_for_new_loan(
        principal=principal,
        daily_rate=daily_rate,
        method=method,
        start_date=start_date,
        term_months=term_months,
        monthly_fee_rate=monthly_fee_rate,
    )
    return Quote(
        lines=lines,
        totals=schedule_totals(lines),
        apr=apr_for_schedule(principal=principal, lines=lines, upfront_fee=upfront_fee),
    )
