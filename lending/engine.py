"""The loan engine: what money arriving and a day closing do to a loan's installments.

Pure functions over in-memory positions (no ORM). The services load a loan's
installments into positions, call the engine, write the positions back and
post what it returns to the ledger; the reversal of a repayment replays the
whole loan through the same functions. One engine for both is what makes a
reversal leave the loan exactly as if the payment had never arrived.

Rules (DOMAIN.md):
- Installments whose due date has come are paid first, by the product's
  waterfall; money beyond them pays the current period's interest earned to
  date, then prepays principal and re-amortises the rest of the schedule.
- Interest and fee of an installment become receivable when it falls due;
  paid before that, they are income straight away ("recognized" = False).
- At the close of day D: installments due on D fall due; unpaid ones whose
  due date plus grace days is before D become overdue, so days past due on D
  are D − due date (an unpaid residue within the product tolerance never
  goes overdue); overdue principal accrues penalty for every day after the
  due date, unrounded, and the posted penalty is the rounded running total,
  so it matches the formula to the fen.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from core.money import ZERO, round_fen
from lending.schedules import (
    RepaymentMethod,
    ScheduleLine,
    build_schedule,
    reamortize_keep_installment,
    schedule_for_new_loan,
)

PENALTY, FEE, INTEREST, PRINCIPAL = "penalty", "fee", "interest", "principal"
COMPONENTS = (PENALTY, FEE, INTEREST, PRINCIPAL)

SCHEDULED, DUE, OVERDUE, PAID, WRITTEN_OFF = "scheduled", "due", "overdue", "paid", "written_off"
# What the installment still owed moved to a new schedule (a hardship restructuring).
RESTRUCTURED = "restructured"
BY_INSTALLMENT, BY_COMPONENT = "by_installment", "by_component"
KEEP_TERM, KEEP_INSTALLMENT = "keep_term", "keep_installment"
# The unrounded penalty is kept to the places its database column stores, so a loan replayed in
# memory (a reversal) and one saved and loaded every day (the close) accrue exactly alike.
PENALTY_EXACT_QUANTUM = Decimal("1e-10")


class PaymentExceedsPayoff(ValueError):
    def __init__(self, payoff: Decimal):
        super().__init__(f"the payment exceeds the payoff amount {payoff}")
        self.payoff = payoff


@dataclass(frozen=True)
class LoanTerms:
    daily_rate: Decimal
    monthly_fee_rate: Decimal
    method: RepaymentMethod
    penalty_multiplier: Decimal
    grace_days: int
    allocation: str
    component_order: Sequence[str]
    prepayment: str
    residue_tolerance: Decimal


@dataclass
class InstallmentPosition:
    number: int
    start_date: date
    due_date: date
    principal: Decimal
    interest: Decimal
    fee: Decimal
    accrual_start: date
    state: str = SCHEDULED
    penalty: Decimal = ZERO
    principal_paid: Decimal = ZERO
    interest_paid: Decimal = ZERO
    fee_paid: Decimal = ZERO
    penalty_paid: Decimal = ZERO
    interest_settled: Decimal = ZERO
    penalty_accrued_exact: Decimal = ZERO
    penalty_accrued_through: date | None = None
    paid_on: date | None = None
    id: int | None = None

    def owed(self, component: str) -> Decimal:
        return getattr(self, component) - getattr(self, f"{component}_paid")

    @property
    def unpaid(self) -> Decimal:
        return sum((self.owed(component) for component in COMPONENTS), ZERO)

    @property
    def is_settled(self) -> bool:
        return self.state in (PAID, WRITTEN_OFF, RESTRUCTURED)

    @property
    def is_recognized(self) -> bool:
        """Its interest and fee are on the books as receivables (it has fallen due)."""
        return self.state in (DUE, OVERDUE)


@dataclass(frozen=True)
class Portion:
    """Money moved to or from one component of one installment."""

    number: int
    component: str
    amount: Decimal
    recognized: bool


@dataclass
class PaymentResult:
    portions: list[Portion] = field(default_factory=list)
    residue: list[Portion] = field(default_factory=list)

    @property
    def allocated(self) -> Decimal:
        return sum((portion.amount for portion in self.portions), ZERO)


@dataclass
class DayResult:
    """What a day's close did: amounts now receivable, penalty accrued, installments gone overdue."""

    recognized: list[Portion] = field(default_factory=list)
    penalty: list[Portion] = field(default_factory=list)
    overdue: list[int] = field(default_factory=list)


def positions_from_schedule(lines: Iterable[ScheduleLine]) -> list[InstallmentPosition]:
    return [
        InstallmentPosition(
            number=line.number,
            start_date=line.start_date,
            due_date=line.due_date,
            principal=line.principal,
            interest=line.interest,
            fee=line.fee,
            accrual_start=line.start_date,
        )
        for line in lines
    ]


def _open(installments: Sequence[InstallmentPosition]) -> list[InstallmentPosition]:
    return sorted((i for i in installments if not i.is_settled), key=lambda i: i.number)


def _fallen_due(installments, on_date: date) -> list[InstallmentPosition]:
    return [i for i in _open(installments) if i.due_date <= on_date]


def _future(installments, on_date: date) -> list[InstallmentPosition]:
    return [i for i in _open(installments) if i.due_date > on_date]


def _interest_earned_to(current: InstallmentPosition, base: Decimal, terms: LoanTerms, on_date: date) -> Decimal:
    """Interest of the current period earned up to `on_date` (paid or not)."""
    days = (on_date - current.accrual_start).days
    return current.interest_settled + round_fen(base * terms.daily_rate * days)


def _future_principal(future: Sequence[InstallmentPosition]) -> Decimal:
    return sum((i.owed(PRINCIPAL) for i in future), ZERO)


def payoff_amount(installments: Sequence[InstallmentPosition], terms: LoanTerms, on_date: date) -> Decimal:
    """Everything fallen due, the current period's interest for the days used, and all remaining principal."""
    total = sum((i.unpaid for i in _fallen_due(installments, on_date)), ZERO)
    future = _future(installments, on_date)
    if future:
        base = _future_principal(future)
        total += _interest_earned_to(future[0], base, terms, on_date) - future[0].interest_paid + base
    return total


def _pay(installment: InstallmentPosition, component: str, amount: Decimal, result: PaymentResult) -> None:
    setattr(installment, f"{component}_paid", getattr(installment, f"{component}_paid") + amount)
    result.portions.append(Portion(installment.number, component, amount, installment.is_recognized))


def _waterfall(due: Sequence[InstallmentPosition], terms: LoanTerms) -> list[tuple[InstallmentPosition, str]]:
    if terms.allocation == BY_COMPONENT:
        return [(i, component) for component in terms.component_order for i in due]
    return [(i, component) for i in due for component in terms.component_order]


def apply_payment(
    installments: Sequence[InstallmentPosition], terms: LoanTerms, amount: Decimal, on_date: date
) -> PaymentResult:
    """Allocate `amount` received on `on_date`; positions change in place."""
    payoff = payoff_amount(installments, terms, on_date)
    if amount > payoff:
        raise PaymentExceedsPayoff(payoff)
    result = PaymentResult()
    remaining = amount
    for installment, component in _waterfall(_fallen_due(installments, on_date), terms):
        take = min(remaining, installment.owed(component))
        if take > 0:
            _pay(installment, component, take, result)
            remaining -= take
    future = _future(installments, on_date)
    if remaining > 0:
        current = future[0]
        base = _future_principal(future)
        earned = _interest_earned_to(current, base, terms, on_date)
        take = min(remaining, earned - current.interest_paid)
        if take > 0:
            _pay(current, INTEREST, take, result)
            remaining -= take
        if remaining > 0:
            _prepay_principal(future, terms, remaining, on_date, earned, base, result)
    _mark_paid(installments, on_date)
    result.residue = settle_residue(installments, terms, on_date)
    return result


def _prepay_principal(
    future: list[InstallmentPosition],
    terms: LoanTerms,
    amount: Decimal,
    on_date: date,
    earned: Decimal,
    base: Decimal,
    result: PaymentResult,
) -> None:
    current = future[0]
    _pay(current, PRINCIPAL, amount, result)
    current.interest_settled, current.accrual_start = earned, on_date
    left = base - amount
    if left == 0:
        # Paid off: interest only for the days used, and no fee for a period not completed.
        current.principal, current.interest, current.fee = current.principal_paid, earned, current.fee_paid
        for later in future[1:]:
            later.principal, later.interest, later.fee = (
                later.principal_paid,
                later.interest_paid,
                later.fee_paid,
            )
        for installment in future:
            installment.state, installment.paid_on = PAID, on_date
        return
    lines = _reamortized(future, terms, left, on_date)
    current.principal = current.principal_paid + lines[0].principal
    current.interest = earned + lines[0].interest
    for later, line in zip(future[1:], lines[1:], strict=False):
        later.principal, later.interest, later.fee = line.principal, line.interest, line.fee
    # Keep-installment shortened the term: the dropped periods owe nothing.
    for dropped in future[len(lines) :]:
        dropped.principal = dropped.interest = dropped.fee = ZERO
        dropped.state, dropped.paid_on = PAID, on_date


def _reamortized(future, terms: LoanTerms, principal: Decimal, on_date: date) -> list[ScheduleLine]:
    due_dates = [i.due_date for i in future]
    common = {
        "principal": principal,
        "daily_rate": terms.daily_rate,
        "method": terms.method,
        "start_date": on_date,
        "due_dates": due_dates,
        "monthly_fee_rate": terms.monthly_fee_rate,
    }
    if terms.prepayment == KEEP_INSTALLMENT and len(future) > 1:
        reference = future[1]
        installment = (
            reference.principal
            if terms.method == RepaymentMethod.EQUAL_PRINCIPAL
            else reference.principal + reference.interest
        )
        if installment > 0:
            return reamortize_keep_installment(installment=installment, **common)
    return build_schedule(**common)


def _mark_paid(installments, on_date: date) -> None:
    for installment in _fallen_due(installments, on_date):
        if installment.unpaid == 0:
            installment.state, installment.paid_on = PAID, on_date


def remaining_balance(installments: Sequence[InstallmentPosition], on_date: date) -> Decimal:
    """What keeps a loan open: all that has fallen due and is unpaid, plus principal not yet due."""
    return sum((i.unpaid for i in _fallen_due(installments, on_date)), ZERO) + _future_principal(
        _future(installments, on_date)
    )


def settle_residue(installments, terms: LoanTerms, on_date: date) -> list[Portion]:
    """A balance within the product tolerance does not keep the loan open: it is written off."""
    if not _open(installments):
        return []
    balance = remaining_balance(installments, on_date)
    if balance == 0 or balance > terms.residue_tolerance:
        return []
    portions = []
    not_yet_due = {i.number for i in _future(installments, on_date)}
    for installment in _open(installments):
        for component in COMPONENTS:
            if installment.number in not_yet_due and component != PRINCIPAL:
                # Interest and fee not yet earned are simply not charged.
                setattr(installment, component, getattr(installment, f"{component}_paid"))
                continue
            owed = installment.owed(component)
            if owed > 0:
                portions.append(Portion(installment.number, component, owed, installment.is_recognized))
                setattr(installment, component, getattr(installment, f"{component}_paid"))
        installment.state, installment.paid_on = PAID, on_date
    return portions


def close_day(installments: Sequence[InstallmentPosition], terms: LoanTerms, day: date) -> DayResult:
    """The close of business date `day` for one loan: due, overdue, penalty."""
    result = DayResult()
    for installment in _open(installments):
        if installment.state == SCHEDULED and installment.due_date <= day:
            if installment.unpaid == 0:
                installment.state, installment.paid_on = PAID, day
                continue
            installment.state = DUE
            for component in (INTEREST, FEE):
                owed = installment.owed(component)
                if owed > 0:
                    result.recognized.append(Portion(installment.number, component, owed, True))
        if (
            installment.state == DUE
            and installment.due_date + timedelta(days=terms.grace_days) < day
            and installment.unpaid > terms.residue_tolerance
        ):
            installment.state = OVERDUE
            result.overdue.append(installment.number)
        if installment.state == OVERDUE and day > installment.due_date:
            accrued = _accrue_penalty(installment, terms, day)
            if accrued > 0:
                result.penalty.append(Portion(installment.number, PENALTY, accrued, True))
    return result


def _accrue_penalty(installment: InstallmentPosition, terms: LoanTerms, day: date) -> Decimal:
    """Accrue penalty for each day after the due date up to `day` not yet accrued.

    Grace days only waive penalty for an installment paid within them: once it
    goes overdue, the days since its due date are charged too.
    """
    first = (installment.penalty_accrued_through or installment.due_date) + timedelta(days=1)
    days = (day - first).days + 1
    if days <= 0:
        return ZERO
    daily = installment.owed(PRINCIPAL) * terms.daily_rate * terms.penalty_multiplier
    exact = installment.penalty_accrued_exact
    for _ in range(days):
        exact = (exact + daily).quantize(PENALTY_EXACT_QUANTUM, rounding=ROUND_HALF_UP)
    installment.penalty_accrued_exact = exact
    installment.penalty_accrued_through = day
    total = round_fen(exact)
    increment = total - installment.penalty
    installment.penalty = total
    return increment


def overdue_since(installments: Sequence[InstallmentPosition]) -> date | None:
    """Due date of the oldest overdue installment (None when none is overdue)."""
    return min((i.due_date for i in installments if i.state == OVERDUE), default=None)


def write_off(installments: Sequence[InstallmentPosition], on_date: date) -> list[Portion]:
    """Charge off everything the loan still owes; interest and fee not yet due are never charged."""
    portions = []
    not_yet_due = {i.number for i in _future(installments, on_date)}
    for installment in _open(installments):
        for component in COMPONENTS:
            owed = installment.owed(component)
            if installment.number in not_yet_due and component != PRINCIPAL:
                setattr(installment, component, getattr(installment, f"{component}_paid"))
            elif owed > 0:
                portions.append(Portion(installment.number, component, owed, installment.is_recognized))
        installment.state = WRITTEN_OFF
    return portions


@dataclass
class RestructureResult:
    """The new installments and what was capitalised into their principal (recognized or not)."""

    new: list[InstallmentPosition]
    principal: Decimal
    capitalised: list[Portion] = field(default_factory=list)


def restructure(
    installments: Sequence[InstallmentPosition],
    terms: LoanTerms,
    on_date: date,
    *,
    term_months: int,
    capitalise: bool,
) -> RestructureResult:
    """Move what the loan owes to a new schedule of `term_months` from `on_date`; positions change in place.

    All remaining principal moves. The current period's interest is earned up
    to `on_date` and its fee, for a period not completed, is dropped; the new
    schedule charges interest from `on_date`, so no day is charged twice.
    With `capitalise`, interest, fee and penalty fallen due and the interest
    earned so far become principal, and the loan is current at once. Without,
    the interest earned so far is settled into the first new installment (as
    a prepayment does) and what has fallen due is carried where it is: owed
    on its own due date, penalty-free because no principal is left under it,
    so the loan cures when it is paid. An old installment left owing nothing
    is RESTRUCTURED.
    """
    fallen = _fallen_due(installments, on_date)
    future = _future(installments, on_date)
    moved, earned_unpaid = ZERO, ZERO
    capitalised: list[Portion] = []
    if future:
        current = future[0]
        earned_unpaid = _interest_earned_to(current, _future_principal(future), terms, on_date) - current.interest_paid
        if capitalise and earned_unpaid > 0:
            capitalised.append(Portion(current.number, INTEREST, earned_unpaid, False))
        for installment in future:
            installment.interest, installment.fee = installment.interest_paid, installment.fee_paid
    for installment in [*fallen, *future]:
        moved += installment.owed(PRINCIPAL)
        installment.principal = installment.principal_paid
        if capitalise:
            for component in (INTEREST, FEE, PENALTY):
                owed = installment.owed(component)
                if owed > 0:
                    capitalised.append(Portion(installment.number, component, owed, installment.is_recognized))
                    setattr(installment, component, getattr(installment, f"{component}_paid"))
        if installment.unpaid == 0:
            installment.state, installment.paid_on = RESTRUCTURED, on_date
    principal = moved + sum((portion.amount for portion in capitalised), ZERO)
    lines = schedule_for_new_loan(
        principal=principal,
        daily_rate=terms.daily_rate,
        method=terms.method,
        start_date=on_date,
        term_months=term_months,
        monthly_fee_rate=terms.monthly_fee_rate,
    )
    new = positions_from_schedule(lines)
    first_number = max(i.number for i in installments) + 1
    for offset, position in enumerate(new):
        position.number = first_number + offset
    if not capitalise and earned_unpaid > 0:
        new[0].interest += earned_unpaid
        new[0].interest_settled = earned_unpaid
    return RestructureResult(new=new, principal=principal, capitalised=capitalised)
