"""Repayment schedules: due dates, installment lines and re-amortisation after a prepayment.

Pure arithmetic on Decimal (no Django): the loan services store what these
functions return. Interest accrues on actual days at the daily rate; every
amount is rounded to the fen by `core.money.round_fen`.

After a prepayment the product default, "keep the term, lower the
installment", is `build_schedule` over the same remaining due dates with the
prepayment date as `start_date`; the option "keep the installment, shorten
the term" is `reamortize_keep_installment`.
"""

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum

from core.money import ZERO, as_decimal, is_fen_exact, round_fen

# The product default (DOMAIN.md) caps interest-first (先息后本) at 12 months and no
# product offers longer; a product's own lower cap is for the loan service to check.
INTEREST_FIRST_MAX_PERIODS = 12

_ONE = Decimal(1)
_MONTH_LENGTHS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class RepaymentMethod(StrEnum):
    EQUAL_INSTALLMENT = "equal_installment"  # 等额本息
    EQUAL_PRINCIPAL = "equal_principal"  # 等额本金
    INTEREST_FIRST = "interest_first"  # 先息后本


@dataclass(frozen=True, slots=True)
class ScheduleLine:
    """One installment; `start_date` is where its interest starts accruing."""

    number: int
    start_date: date
    due_date: date
    days: int
    opening_principal: Decimal
    principal: Decimal
    interest: Decimal
    fee: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.fee


@dataclass(frozen=True, slots=True)
class ScheduleTotals:
    """Sums over a schedule's lines."""

    principal: Decimal
    interest: Decimal
    fee: Decimal
    total: Decimal


# Decides a non-final line's principal from its opening principal and interest; the
# final line always takes whatever principal is left, so the parts sum exactly.
_PrincipalRule = Callable[[Decimal, Decimal], Decimal]


def monthly_due_dates(*, start_date: date, term_months: int) -> list[date]:
    """Due dates `term_months` calendar months apart, anchored on the start's day of month.

    Anchoring on the start (not on the previous due date) keeps a loan started
    on Jan 31 due on the last day of short months and back on the 31st after.
    """
    if term_months < 1:
        raise ValueError(f"term_months must be at least 1, got {term_months}")
    start_months = start_date.year * 12 + start_date.month - 1  # months since year 0
    return [
        _day_of_month(year=months // 12, month=months % 12 + 1, day=start_date.day)
        for months in range(start_months + 1, start_months + term_months + 1)
    ]


def _day_of_month(*, year: int, month: int, day: int) -> date:
    """`day` of the month, or its last day when the month is shorter (Jan 31 → Feb 28)."""
    # Every month has 28 days, so most loans skip the month-length lookup.
    if day > 28:
        day = min(day, _month_length(year=year, month=month))
    return date(year, month, day)


def _month_length(*, year: int, month: int) -> int:
    # A table lookup: calendar.monthrange also computes a weekday and was a visible
    # share of quote time.
    if month == 2 and calendar.isleap(year):
        return 29
    return _MONTH_LENGTHS[month - 1]


def build_schedule(
    *,
    principal: Decimal,
    daily_rate: Decimal,
    method: RepaymentMethod,
    start_date: date,
    due_dates: Sequence[date],
    monthly_fee_rate: Decimal = ZERO,
) -> list[ScheduleLine]:
    """The schedule repaying `principal` on `due_dates`, interest accruing from `start_date`.

    Each line's interest is opening principal × daily rate × actual days and its
    fee (the insurance premium) opening principal × monthly fee rate, each
    rounded to the fen. The principal parts sum exactly to `principal`; any
    rounding residue is carried by the last installment:

    - equal installments: a level payment (see `_level_payment`) less each
      line's interest; the last line pays whatever principal is left;
    - equal principal: principal / periods rounded to the fen on every line
      but the last, which takes the remainder (a few fen more or less);
    - interest-first: interest only, all principal on the last line.
    """
    principal, daily_rate, monthly_fee_rate = _validated_amounts(
        principal=principal, daily_rate=daily_rate, monthly_fee_rate=monthly_fee_rate
    )
    method = _validated_method(method)
    days = _period_days(start_date=start_date, due_dates=due_dates)
    if method is RepaymentMethod.INTEREST_FIRST and len(days) > INTEREST_FIRST_MAX_PERIODS:
        raise ValueError(
            f"due_dates: interest-first allows at most {INTEREST_FIRST_MAX_PERIODS} periods, got {len(days)}"
        )
    return _lines(
        principal=principal,
        daily_rate=daily_rate,
        monthly_fee_rate=monthly_fee_rate,
        start_date=start_date,
        due_dates=due_dates,
        days=days,
        rule=_principal_rule(method=method, principal=principal, daily_rate=daily_rate, days=days),
    )


def schedule_for_new_loan(
    *,
    principal: Decimal,
    daily_rate: Decimal,
    method: RepaymentMethod,
    start_date: date,
    term_months: int,
    monthly_fee_rate: Decimal = ZERO,
) -> list[ScheduleLine]:
    """The schedule of a new drawdown: `build_schedule` on monthly due dates."""
    return build_schedule(
        principal=principal,
        daily_rate=daily_rate,
        method=method,
        start_date=start_date,
        due_dates=monthly_due_dates(start_date=start_date, term_months=term_months),
        monthly_fee_rate=monthly_fee_rate,
    )


def reamortize_keep_installment(
    *,
    principal: Decimal,
    daily_rate: Decimal,
    method: RepaymentMethod,
    start_date: date,
    due_dates: Sequence[date],
    installment: Decimal,
    monthly_fee_rate: Decimal = ZERO,
) -> list[ScheduleLine]:
    """After a prepayment, keep the installment and drop trailing due dates.

    `principal` is the outstanding principal after the prepayment, `start_date`
    the prepayment date and `due_dates` the remaining due dates. `installment`
    is what the borrower keeps paying:

    - equal installments: the current level payment (principal + interest,
      premium excluded); the result is the schedule over the fewest leading
      due dates whose recomputed level payment does not exceed it;
    - equal principal: the current per-period principal part, kept on every
      line but the last, which takes what is left;
    - interest-first: ignored; all principal is due at the end, so the term
      cannot shorten and the keep-term schedule is returned.

    The term never lengthens and the installment never rises. When even all
    remaining dates would need a bigger installment (fen rounding in the old
    schedule can leave a fen or two too much principal), the installment is
    held and the last line absorbs the difference, as it does for rounding.
    """
    installment = as_decimal(installment)
    if installment <= 0 or not is_fen_exact(installment):
        raise ValueError(f"installment must be positive and fen-exact, got {installment}")
    # Builds the interest-first answer and validates every other argument.
    keep_term = build_schedule(
        principal=principal,
        daily_rate=daily_rate,
        method=method,
        start_date=start_date,
        due_dates=due_dates,
        monthly_fee_rate=monthly_fee_rate,
    )
    method = RepaymentMethod(method)
    if method is RepaymentMethod.INTEREST_FIRST:
        return keep_term
    principal, daily_rate = keep_term[0].opening_principal, as_decimal(daily_rate)
    days = [line.days for line in keep_term]
    if method is RepaymentMethod.EQUAL_INSTALLMENT:
        periods = _fewest_level_periods(principal=principal, daily_rate=daily_rate, days=days, installment=installment)
        if periods is not None:
            return build_schedule(
                principal=principal,
                daily_rate=daily_rate,
                method=method,
                start_date=start_date,
                due_dates=due_dates[:periods],
                monthly_fee_rate=monthly_fee_rate,
            )
        periods, rule = len(days), _level_rule(payment=installment)
    else:
        needed = int((principal / installment).to_integral_value(rounding=ROUND_CEILING))
        periods, rule = min(needed, len(days)), _fixed_part_rule(part=installment)
    return _lines(
        principal=principal,
        daily_rate=daily_rate,
        monthly_fee_rate=as_decimal(monthly_fee_rate),
        start_date=start_date,
        due_dates=due_dates[:periods],
        days=days[:periods],
        rule=rule,
    )


def schedule_totals(lines: Sequence[ScheduleLine]) -> ScheduleTotals:
    principal = sum((line.principal for line in lines), ZERO)
    interest = sum((line.interest for line in lines), ZERO)
    fee = sum((line.fee for line in lines), ZERO)
    return ScheduleTotals(principal=principal, interest=interest, fee=fee, total=principal + interest + fee)


def _level_payment(*, principal: Decimal, daily_rate: Decimal, days: Sequence[int]) -> Decimal:
    """The fen-rounded level payment that amortises `principal` over periods of `days`.

    payment = principal / Σ_k Π_{i≤k} 1 / (1 + daily_rate × days_i): the annuity
    formula with each period's own length, so a schedule with uneven months
    still amortises to (almost) zero; with equal periods it is the textbook pmt.
    """
    annuity_factor = ZERO
    discount = _ONE
    for period_days in days:
        discount /= _ONE + daily_rate * period_days
        annuity_factor += discount
    return round_fen(principal / annuity_factor)


def _principal_rule(
    *,
    method: RepaymentMethod,
    principal: Decimal,
    daily_rate: Decimal,
    days: Sequence[int],
) -> _PrincipalRule:
    if method is RepaymentMethod.EQUAL_INSTALLMENT:
        return _level_rule(payment=_level_payment(principal=principal, daily_rate=daily_rate, days=days))
    if method is RepaymentMethod.EQUAL_PRINCIPAL:
        # Equal fen-rounded parts; the residue (a few fen either way) lands on the
        # last installment, so every earlier installment has the same principal.
        return _fixed_part_rule(part=round_fen(principal / len(days)))
    return _fixed_part_rule(part=ZERO)


def _level_rule(*, payment: Decimal) -> _PrincipalRule:
    def rule(opening: Decimal, interest: Decimal) -> Decimal:
        # Clamped because on tiny balances the fen-rounded payment can fall short
        # of the interest or overshoot what is left.
        return min(max(payment - interest, ZERO), opening)

    return rule


def _fixed_part_rule(*, part: Decimal) -> _PrincipalRule:
    def rule(opening: Decimal, _interest: Decimal) -> Decimal:
        # Clamped because rounding the part up can exhaust the balance early.
        return min(part, opening)

    return rule


def _lines(
    *,
    principal: Decimal,
    daily_rate: Decimal,
    monthly_fee_rate: Decimal,
    start_date: date,
    due_dates: Sequence[date],
    days: Sequence[int],
    rule: _PrincipalRule,
) -> list[ScheduleLine]:
    lines = []
    opening = principal
    last_number = len(days)
    periods = zip([start_date, *due_dates[:-1]], due_dates, days, strict=True)
    for number, (accrual_start, due_date, period_days) in enumerate(periods, start=1):
        interest = round_fen(opening * daily_rate * period_days)
        part = opening if number == last_number else rule(opening, interest)
        fee = round_fen(opening * monthly_fee_rate)
        # Positional because this runs for every line of every quote and keywords
        # measurably slowed quoting; the order is ScheduleLine's field order.
        lines.append(ScheduleLine(number, accrual_start, due_date, period_days, opening, part, interest, fee))
        opening -= part
    return lines


def _fewest_level_periods(
    *, principal: Decimal, daily_rate: Decimal, days: Sequence[int], installment: Decimal
) -> int | None:
    # The level payment falls as the term grows, so the first fit is the shortest term.
    for periods in range(1, len(days) + 1):
        if _level_payment(principal=principal, daily_rate=daily_rate, days=days[:periods]) <= installment:
            return periods
    return None


def _period_days(*, start_date: date, due_dates: Sequence[date]) -> list[int]:
    """Actual days in each period, checking the due dates run strictly after `start_date`."""
    if not due_dates:
        raise ValueError("due_dates must not be empty")
    days = [(due - start).days for start, due in zip([start_date, *due_dates[:-1]], due_dates, strict=True)]
    if min(days) <= 0:
        raise ValueError(f"due_dates must be strictly increasing and after start_date {start_date}")
    return days


def _validated_amounts(
    *, principal: Decimal, daily_rate: Decimal, monthly_fee_rate: Decimal
) -> tuple[Decimal, Decimal, Decimal]:
    principal = as_decimal(principal)
    if principal <= 0 or not is_fen_exact(principal):
        raise ValueError(f"principal must be positive and fen-exact, got {principal}")
    # Exact after the check above; it fixes the scale so every line's amounts print as 0.00.
    principal = round_fen(principal)
    daily_rate = as_decimal(daily_rate)
    if daily_rate < 0:
        raise ValueError(f"daily_rate must not be negative, got {daily_rate}")
    monthly_fee_rate = as_decimal(monthly_fee_rate)
    if monthly_fee_rate < 0:
        raise ValueError(f"monthly_fee_rate must not be negative, got {monthly_fee_rate}")
    return principal, daily_rate, monthly_fee_rate


def _validated_method(method: RepaymentMethod) -> RepaymentMethod:
    try:
        return RepaymentMethod(method)
    except ValueError:
        raise ValueError(f"method must be one of {[m.value for m in RepaymentMethod]}, got {method!r}") from None
