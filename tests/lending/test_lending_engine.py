"""The pure loan engine: payments, prepayment, payoff, close of day and residues, on random loans.

No database: loans are schedules turned into positions; a scenario closes
every day in order and applies payments on random dates, as the services and
the reversal replay do (a day's payments first, then its close).
"""

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core.money import ZERO, round_fen
from lending import engine
from lending.engine import COMPONENTS, PRINCIPAL
from lending.schedules import RepaymentMethod, schedule_for_new_loan

EXAMPLES = hypothesis_settings(max_examples=60)
ORDER = ("penalty", "fee", "interest", "principal")
TOLERANCE = Decimal("1.00")
FEN = Decimal("0.01")


@dataclass(frozen=True)
class LoanCase:
    amount: Decimal
    term_months: int
    start: date
    terms: engine.LoanTerms

    def positions(self) -> list[engine.InstallmentPosition]:
        return engine.positions_from_schedule(
            schedule_for_new_loan(
                principal=self.amount,
                daily_rate=self.terms.daily_rate,
                method=self.terms.method,
                start_date=self.start,
                term_months=self.term_months,
                monthly_fee_rate=self.terms.monthly_fee_rate,
            )
        )


@dataclass
class Step:
    """One payment: the positions before and after it, and what the engine returned."""

    day: date
    amount: Decimal
    before: list[engine.InstallmentPosition]
    after: list[engine.InstallmentPosition]
    result: engine.PaymentResult


@st.composite
def loan_cases(draw, *, allocation=None, prepayment=None, methods=tuple(RepaymentMethod)) -> LoanCase:
    terms = engine.LoanTerms(
        daily_rate=Decimal(draw(st.integers(20, 60))) / Decimal(100_000),
        monthly_fee_rate=draw(st.sampled_from([ZERO, Decimal("0.002")])),
        method=draw(st.sampled_from(methods)),
        penalty_multiplier=Decimal("1.5"),
        grace_days=0,
        allocation=allocation or draw(st.sampled_from([engine.BY_INSTALLMENT, engine.BY_COMPONENT])),
        component_order=ORDER,
        prepayment=prepayment or draw(st.sampled_from([engine.KEEP_TERM, engine.KEEP_INSTALLMENT])),
        residue_tolerance=TOLERANCE,
    )
    return LoanCase(
        amount=Decimal(draw(st.integers(5, 2000)) * 100),
        term_months=draw(st.sampled_from([3, 6, 12])),
        start=date(2031, 1, 1) + timedelta(days=draw(st.integers(0, 364))),
        terms=terms,
    )


# A payment: days after the previous event, and its size in per-mille of the payoff amount that day.
payment_events = st.lists(st.tuples(st.integers(0, 70), st.integers(1, 1000)), min_size=1, max_size=6)


def close_days(positions, terms, start: date, until: date) -> None:
    """Close every day from `start` up to, not including, `until`."""
    day = start
    while day < until:
        engine.close_day(positions, terms, day)
        day += timedelta(days=1)


def simulate(case: LoanCase, events) -> tuple[list[engine.InstallmentPosition], list[Step], date]:
    """Run the payments; return the final positions, every step, and the open (not yet closed) day."""
    positions = case.positions()
    steps: list[Step] = []
    day = case.start
    for gap, per_mille in events:
        target = day + timedelta(days=gap)
        close_days(positions, case.terms, day, target)
        day = target
        payoff = engine.payoff_amount(positions, case.terms, day)
        if payoff == 0:
            break
        amount = min(max(round_fen(payoff * per_mille / 1000), FEN), payoff)
        before = snapshot(positions)
        result = engine.apply_payment(positions, case.terms, amount, day)
        steps.append(Step(day, amount, before, snapshot(positions), result))
    return positions, steps, day


def snapshot(positions) -> list[engine.InstallmentPosition]:
    """A copy of the positions (their fields are immutable values)."""
    return [replace(p) for p in positions]


def by_component(portions) -> dict[tuple[int, str], Decimal]:
    totals: dict[tuple[int, str], Decimal] = {}
    for portion in portions:
        key = (portion.number, portion.component)
        totals[key] = totals.get(key, ZERO) + portion.amount
    return totals


def settled(positions) -> bool:
    return all(p.is_settled for p in positions)


# --- money is conserved --------------------------------------------------------------------


@EXAMPLES
@given(loan_cases(), payment_events)
def test_every_payment_is_allocated_in_full_in_positive_portions(case, events):
    _, steps, _ = simulate(case, events)

    for step in steps:
        assert step.result.allocated == step.amount
        assert all(portion.amount > 0 for portion in step.result.portions)


@EXAMPLES
@given(loan_cases(), payment_events)
def test_no_component_of_any_installment_is_ever_paid_more_than_it_owes(case, events):
    _, steps, _ = simulate(case, events)

    for step in steps:
        for position in step.after:
            for component in COMPONENTS:
                paid = getattr(position, f"{component}_paid")
                assert ZERO <= paid <= getattr(position, component), (position.number, component)


@EXAMPLES
@given(loan_cases(), payment_events)
def test_principal_over_the_installments_always_adds_up_to_the_loan_principal(case, events):
    _, steps, _ = simulate(case, events)

    written_off = ZERO
    for step in steps:
        written_off += sum((p.amount for p in step.result.residue if p.component == PRINCIPAL), ZERO)
        assert sum((p.principal for p in step.after), ZERO) + written_off == case.amount


@EXAMPLES
@given(loan_cases(), payment_events)
def test_principal_paid_is_exactly_what_the_payments_allocated_to_principal(case, events):
    positions, steps, _ = simulate(case, events)

    allocated = sum((p.amount for step in steps for p in step.result.portions if p.component == PRINCIPAL), ZERO)
    assert sum((p.principal_paid for p in positions), ZERO) == allocated


# --- the waterfall ---------------------------------------------------------------------------


def waterfall_order(fallen_due: list[int], allocation: str) -> list[tuple[int, str]]:
    if allocation == engine.BY_COMPONENT:
        return [(number, component) for component in ORDER for number in fallen_due]
    return [(number, component) for number in fallen_due for component in ORDER]


def assert_waterfall_respected(step: Step, allocation: str) -> None:
    fallen_due = [p.number for p in step.before if not p.is_settled and p.due_date <= step.day]
    owed_before = {(p.number, c): p.owed(c) for p in step.before for c in ORDER}
    paid = by_component(step.result.portions)
    still_owed = {key: owed_before[key] - paid.get(key, ZERO) for key in owed_before}
    order = waterfall_order(fallen_due, allocation)
    for portion in step.result.portions:
        key = (portion.number, portion.component)
        # Everything ahead of this portion in the product order was paid in full first;
        # money for an installment not yet due comes only after all that has fallen due.
        ahead = order[: order.index(key)] if key in order else order
        unpaid_ahead = [k for k in ahead if still_owed[k] > 0]
        assert not unpaid_ahead, f"{key} got money while {unpaid_ahead} still owed"


@EXAMPLES
@given(loan_cases(allocation=engine.BY_INSTALLMENT), payment_events)
def test_by_installment_no_later_installment_or_component_is_paid_while_an_earlier_one_owes(case, events):
    _, steps, _ = simulate(case, events)

    for step in steps:
        assert_waterfall_respected(step, engine.BY_INSTALLMENT)


@EXAMPLES
@given(loan_cases(allocation=engine.BY_COMPONENT), payment_events)
def test_by_component_no_component_is_paid_while_an_earlier_component_still_owes(case, events):
    _, steps, _ = simulate(case, events)

    for step in steps:
        assert_waterfall_respected(step, engine.BY_COMPONENT)


def test_an_overdue_installment_is_paid_before_the_current_period_interest():
    case = LoanCase(
        amount=Decimal("12000"),
        term_months=12,
        start=date(2031, 1, 15),
        terms=engine.LoanTerms(
            daily_rate=Decimal("0.0004"),
            monthly_fee_rate=ZERO,
            method=RepaymentMethod.EQUAL_INSTALLMENT,
            penalty_multiplier=Decimal("1.5"),
            grace_days=0,
            allocation=engine.BY_INSTALLMENT,
            component_order=ORDER,
            prepayment=engine.KEEP_TERM,
            residue_tolerance=TOLERANCE,
        ),
    )
    positions = case.positions()
    first = positions[0]
    close_days(positions, case.terms, case.start, first.due_date + timedelta(days=3))
    owed = first.unpaid

    result = engine.apply_payment(positions, case.terms, owed, first.due_date + timedelta(days=3))

    assert {portion.number for portion in result.portions} == {1}
    assert [p.component for p in result.portions] == ["penalty", "interest", "principal"]
    assert positions[0].state == engine.PAID


# --- payoff ----------------------------------------------------------------------------------


@EXAMPLES
@given(loan_cases(), payment_events, st.integers(0, 60))
def test_paying_the_payoff_amount_on_a_date_settles_every_installment(case, events, wait):
    positions, _, day = simulate(case, events)
    close_days(positions, case.terms, day, day + timedelta(days=wait))
    day += timedelta(days=wait)
    payoff = engine.payoff_amount(positions, case.terms, day)
    assume(payoff > 0)

    result = engine.apply_payment(positions, case.terms, payoff, day)

    assert result.allocated == payoff
    assert settled(positions)
    assert engine.remaining_balance(positions, day) == ZERO
    assert engine.payoff_amount(positions, case.terms, day) == ZERO


@EXAMPLES
@given(loan_cases(), payment_events, st.integers(0, 60))
def test_a_payment_above_the_payoff_amount_is_refused_and_changes_nothing(case, events, wait):
    positions, _, day = simulate(case, events)
    close_days(positions, case.terms, day, day + timedelta(days=wait))
    day += timedelta(days=wait)
    payoff = engine.payoff_amount(positions, case.terms, day)
    before = snapshot(positions)

    with pytest.raises(engine.PaymentExceedsPayoff) as refused:
        engine.apply_payment(positions, case.terms, payoff + FEN, day)

    assert refused.value.payoff == payoff
    assert positions == before


@EXAMPLES
@given(loan_cases(), st.integers(0, 27))
def test_a_payoff_inside_the_first_period_charges_interest_only_for_the_days_used(case, days_used):
    positions = case.positions()
    day = case.start + timedelta(days=days_used)

    engine.apply_payment(positions, case.terms, engine.payoff_amount(positions, case.terms, day), day)

    interest_charged = sum((p.interest for p in positions), ZERO)
    assert interest_charged == round_fen(case.amount * case.terms.daily_rate * days_used)
    assert sum((p.fee for p in positions), ZERO) == ZERO


# --- close of day ----------------------------------------------------------------------------


@EXAMPLES
@given(loan_cases(), payment_events, st.integers(0, 60))
def test_closing_the_same_day_twice_changes_nothing_the_second_time(case, events, wait):
    positions, _, day = simulate(case, events)
    close_days(positions, case.terms, day, day + timedelta(days=wait))
    day += timedelta(days=wait)
    engine.close_day(positions, case.terms, day)
    after_first = snapshot(positions)

    second = engine.close_day(positions, case.terms, day)

    assert second == engine.DayResult()
    assert positions == after_first


@EXAMPLES
@given(loan_cases(), st.data())
def test_penalty_over_a_45_day_delinquency_equals_the_formula_to_the_fen(case, data):
    positions = case.positions()
    # The first installment carrying principal (interest-first: the last one).
    target = next(p for p in positions if p.principal > 0)
    due = target.due_date
    close_days(positions, case.terms, case.start, due)
    if target.number == 1:
        # Pay part of it on the due date, leaving some principal unpaid (more than the tolerance).
        left = Decimal(data.draw(st.integers(2, int(target.principal)), label="principal left unpaid"))
        payment = target.unpaid - left
        if payment > 0:
            engine.apply_payment(positions, case.terms, payment, due)
    overdue_principal = target.owed(PRINCIPAL)

    close_days(positions, case.terms, due, due + timedelta(days=46))

    rate = case.terms.daily_rate
    assert target.state == engine.OVERDUE
    assert target.penalty == round_fen(overdue_principal * rate * Decimal("1.5") * 45)
    assert target.penalty_accrued_through == due + timedelta(days=45)


def test_the_running_penalty_is_kept_to_the_ten_places_an_installment_row_stores():
    case = LoanCase(
        amount=Decimal("12300"),
        term_months=6,
        start=date(2031, 1, 15),
        terms=engine.LoanTerms(
            daily_rate=Decimal("0.00045679"),  # × 1.5 × fen amounts: eleven places a day
            monthly_fee_rate=ZERO,
            method=RepaymentMethod.EQUAL_INSTALLMENT,
            penalty_multiplier=Decimal("1.5"),
            grace_days=0,
            allocation=engine.BY_INSTALLMENT,
            component_order=ORDER,
            prepayment=engine.KEEP_TERM,
            residue_tolerance=TOLERANCE,
        ),
    )
    positions = case.positions()
    first = positions[0]
    close_days(positions, case.terms, case.start, first.due_date)
    engine.apply_payment(positions, case.terms, Decimal("500.02"), first.due_date)
    daily = first.owed(PRINCIPAL) * case.terms.daily_rate * Decimal("1.5")
    assert daily != daily.quantize(Decimal("1e-10"))

    close_days(positions, case.terms, first.due_date, first.due_date + timedelta(days=3))

    # What a day-by-day close stores: each day's running total rounded to the column's ten places.
    assert first.penalty_accrued_exact == 2 * daily.quantize(Decimal("1e-10"), rounding=ROUND_HALF_UP)


def test_no_penalty_accrues_on_the_due_date_itself():
    case = LoanCase(
        amount=Decimal("10000"),
        term_months=3,
        start=date(2031, 1, 15),
        terms=engine.LoanTerms(
            daily_rate=Decimal("0.0004"),
            monthly_fee_rate=ZERO,
            method=RepaymentMethod.EQUAL_PRINCIPAL,
            penalty_multiplier=Decimal("1.5"),
            grace_days=0,
            allocation=engine.BY_INSTALLMENT,
            component_order=ORDER,
            prepayment=engine.KEEP_TERM,
            residue_tolerance=TOLERANCE,
        ),
    )
    positions = case.positions()
    due = positions[0].due_date
    close_days(positions, case.terms, case.start, due)

    result = engine.close_day(positions, case.terms, due)

    assert positions[0].state == engine.DUE
    assert result.penalty == []
    assert positions[0].penalty == ZERO

    after = engine.close_day(positions, case.terms, due + timedelta(days=1))

    assert positions[0].state == engine.OVERDUE
    assert after.overdue == [1]
    assert [p.amount for p in after.penalty] == [round_fen(positions[0].principal * Decimal("0.0006"))]


# --- prepayment ------------------------------------------------------------------------------


def last_due_with_principal(positions) -> date:
    return max(p.due_date for p in positions if p.principal > 0)


@EXAMPLES
@given(
    loan_cases(prepayment=engine.KEEP_INSTALLMENT),
    payment_events,
)
def test_keep_installment_prepayment_never_lengthens_the_term(case, events):
    _, steps, _ = simulate(case, events)

    for step in steps:
        if settled(step.after):
            continue
        assert last_due_with_principal(step.after) <= last_due_with_principal(step.before)
        open_after = sum(1 for p in step.after if not p.is_settled)
        assert open_after <= sum(1 for p in step.before if not p.is_settled)


@EXAMPLES
@given(
    loan_cases(
        prepayment=engine.KEEP_TERM,
        methods=(RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL),
    ),
    st.integers(1, 25),
    st.integers(1, 900),
)
def test_keep_term_prepayment_keeps_the_term_and_lowers_the_later_installments(case, days, per_mille):
    assume(case.term_months > 3 or case.amount >= 2000)
    positions = case.positions()
    day = case.start + timedelta(days=days)
    amount = round_fen(engine.payoff_amount(positions, case.terms, day) * per_mille / 1000)
    before = snapshot(positions)

    engine.apply_payment(positions, case.terms, amount, day)

    assume(not settled(positions))
    assert [p.number for p in positions if not p.is_settled] == [p.number for p in before]
    for old, new in zip(before[1:], positions[1:], strict=True):
        assert new.principal + new.interest <= old.principal + old.interest


# --- residue ---------------------------------------------------------------------------------


@EXAMPLES
@given(loan_cases(), payment_events, st.integers(1, 100))
def test_a_payment_leaving_a_residue_within_tolerance_settles_the_loan(case, events, short_fen):
    positions, _, day = simulate(case, events)
    payoff = engine.payoff_amount(positions, case.terms, day)
    short = Decimal(short_fen) * FEN
    assume(payoff - short > 0)

    result = engine.apply_payment(positions, case.terms, payoff - short, day)

    assert settled(positions)
    written_off = sum((p.amount for p in result.residue), ZERO)
    assert ZERO < written_off <= short
    assert engine.remaining_balance(positions, day) == ZERO


def test_a_payment_leaving_more_than_the_tolerance_keeps_the_loan_open():
    case = LoanCase(
        amount=Decimal("5000"),
        term_months=3,
        start=date(2031, 1, 15),
        terms=engine.LoanTerms(
            daily_rate=Decimal("0.0004"),
            monthly_fee_rate=ZERO,
            method=RepaymentMethod.EQUAL_INSTALLMENT,
            penalty_multiplier=Decimal("1.5"),
            grace_days=0,
            allocation=engine.BY_INSTALLMENT,
            component_order=ORDER,
            prepayment=engine.KEEP_TERM,
            residue_tolerance=TOLERANCE,
        ),
    )
    positions = case.positions()
    day = case.start + timedelta(days=10)
    payoff = engine.payoff_amount(positions, case.terms, day)

    result = engine.apply_payment(positions, case.terms, payoff - Decimal("1.01"), day)

    assert result.residue == []
    assert not settled(positions)
    assert engine.remaining_balance(positions, day) == Decimal("1.01")
