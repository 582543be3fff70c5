"""Hardship: pause, re-ageing and restructuring (through lending and the ledger), escalation and recoveries."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.close import day_close
from core.errors import DomainError
from core.money import ZERO
from debt_collection.models import CollectionCase, Escalation, HardshipRecord, Recovery
from debt_collection.services import (
    case_escalate,
    hardship_pause,
    hardship_reage,
    hardship_restructure,
    recovery_post,
)
from ledger import chart
from ledger.models import JournalEntry
from ledger.selectors import account_balances, trial_balance_difference
from ledger.verification import ledger_problems
from lending import engine
from lending.models import Installment, Loan, LoanRestructure
from lending.services.repayments import payoff_quote, repayment_post, repayment_reverse
from lending.services.restructuring import loan_restructure


@pytest.fixture
def late_case(loan, collector, close_to, case_of):
    close_to(date(2031, 3, 20))  # first installment 33 days late, second 5: M2
    return case_of(loan)


def assert_consistent(loan: Loan) -> None:
    """The loan's cached balances equal its installments and its ledger; the books balance."""
    loan = Loan.objects.get(pk=loan.pk)
    rows = list(loan.installments.order_by("number"))
    owing = [row for row in rows if row.state != Installment.State.WRITTEN_OFF]
    assert loan.principal_outstanding == sum((r.principal - r.principal_paid for r in owing), ZERO)
    ledger = account_balances(loan_id=loan.pk)
    assert ledger.get(chart.PRINCIPAL_RECEIVABLE, ZERO) == loan.principal_outstanding
    assert ledger.get(chart.INTEREST_RECEIVABLE, ZERO) == loan.interest_outstanding
    assert ledger.get(chart.PENALTY_RECEIVABLE, ZERO) == loan.penalty_outstanding
    assert trial_balance_difference() == 0
    assert list(ledger_problems()) == []


def test_capitalising_restructure_cures_the_loan_and_keeps_the_books_balanced(late_case, loan, collector, manager):
    before = Loan.objects.get(pk=loan.pk)
    arrears = before.interest_outstanding + before.fee_outstanding + before.penalty_outstanding
    assert before.state == Loan.State.OVERDUE and arrears > 0

    record = hardship_restructure(
        case_id=late_case.pk, term_months=24, capitalise=True, reason="lost job", requested_by=collector,
        approved_by=manager,
    )  # fmt: skip

    after = Loan.objects.get(pk=loan.pk)
    restructure = record.restructures.get()
    assert after.state == Loan.State.CURRENT
    assert after.dpd_bucket == "M0" and after.overdue_since is None
    assert after.interest_outstanding == after.penalty_outstanding == ZERO
    earned = restructure.capitalised_interest - before.interest_outstanding  # this period's interest so far
    assert earned > 0
    assert after.principal_outstanding == before.principal_outstanding + arrears + earned
    assert restructure.principal_after == after.principal_outstanding
    new = list(after.installments.filter(number__gte=restructure.first_new_installment))
    assert len(new) == 24
    assert sum(row.principal for row in new) == after.principal_outstanding
    assert not after.installments.filter(state__in=["due", "overdue"]).exists()
    assert JournalEntry.objects.get(pk=restructure.journal_entry_id).kind == "restructure_capitalisation"
    assert_consistent(loan)


def test_carrying_restructure_leaves_the_arrears_owed_until_paid(late_case, loan, collector, manager):
    before = Loan.objects.get(pk=loan.pk)
    entries = JournalEntry.objects.count()
    hardship_restructure(
        case_id=late_case.pk, term_months=6, capitalise=False, reason="illness", requested_by=collector,
        approved_by=manager,
    )  # fmt: skip

    after = Loan.objects.get(pk=loan.pk)
    assert JournalEntry.objects.count() == entries  # only principal moved between installments
    assert after.principal_outstanding == before.principal_outstanding
    assert after.penalty_outstanding == before.penalty_outstanding
    assert after.interest_outstanding == before.interest_outstanding
    assert after.state == Loan.State.OVERDUE
    assert_consistent(loan)

    # Paying the carried arrears cures the loan; no penalty accrues on them meanwhile.
    repayment_post(
        loan_id=loan.pk, amount=after.interest_outstanding + after.penalty_outstanding + after.fee_outstanding
    )
    cured = Loan.objects.get(pk=loan.pk)
    assert cured.state == Loan.State.CURRENT
    day_close(business_date=date(2031, 3, 20))
    assert Loan.objects.get(pk=loan.pk).penalty_outstanding == ZERO
    assert_consistent(loan)
    assert CollectionCase.objects.get(pk=late_case.pk).state == CollectionCase.State.RESOLVED


def test_restructured_loan_runs_on_to_its_payoff(late_case, loan, collector, manager, close_to):
    hardship_restructure(
        case_id=late_case.pk, term_months=3, capitalise=True, reason="hardship", requested_by=collector,
        approved_by=manager,
    )  # fmt: skip
    close_to(date(2031, 4, 25))  # past the first new due date (Apr 20), unpaid: late again
    loan = Loan.objects.get(pk=loan.pk)
    assert loan.state == Loan.State.OVERDUE
    today = date(2031, 4, 25)
    repayment_post(loan_id=loan.pk, amount=payoff_quote(loan=loan, on_date=today, today=today).amount)
    assert Loan.objects.get(pk=loan.pk).state == Loan.State.PAID_OFF
    assert_consistent(loan)


def test_reage_brings_the_loan_current_over_its_remaining_periods(late_case, loan, collector, manager):
    remaining = loan.installments.filter(due_date__gt=date(2031, 3, 20)).count()
    record = hardship_reage(case_id=late_case.pk, reason="back at work", requested_by=collector, approved_by=manager)
    assert record.kind == HardshipRecord.Kind.REAGE
    assert record.restructures.get().term_months == remaining
    assert Loan.objects.get(pk=loan.pk).state == Loan.State.CURRENT
    assert_consistent(loan)


def test_a_restructured_loan_refuses_a_replay_reversal(late_case, loan, collector, manager):
    repayment = repayment_post(loan_id=loan.pk, amount=Decimal("100"))
    hardship_reage(case_id=late_case.pk, reason="back at work", requested_by=collector, approved_by=manager)
    with pytest.raises(DomainError) as refused:
        repayment_reverse(repayment_id=repayment.pk, reason="bank returned it")
    assert refused.value.code == "loan_restructured"


@given(
    term=st.integers(min_value=1, max_value=36),
    capitalise=st.booleans(),
    day=st.integers(min_value=0, max_value=420),  # past maturity too
    paid=st.integers(min_value=0, max_value=3000),
)
@settings(max_examples=60)
def test_engine_restructure_moves_every_fen(term, capitalise, day, paid):
    """Pure: principal owed before + what was capitalised = the new schedule's principal."""
    from lending.schedules import RepaymentMethod, schedule_for_new_loan

    start = date(2031, 1, 15)
    terms = engine.LoanTerms(
        daily_rate=Decimal("0.0004"), monthly_fee_rate=Decimal("0.001"), method=RepaymentMethod.EQUAL_INSTALLMENT,
        penalty_multiplier=Decimal("1.5"), grace_days=0, allocation="by_installment",
        component_order=("penalty", "fee", "interest", "principal"), prepayment="keep_term",
        residue_tolerance=Decimal("1.00"),
    )  # fmt: skip
    positions = engine.positions_from_schedule(
        schedule_for_new_loan(
            principal=Decimal("12000"), daily_rate=terms.daily_rate, method=terms.method, start_date=start,
            term_months=12, monthly_fee_rate=terms.monthly_fee_rate,
        )
    )  # fmt: skip
    on = start + timedelta(days=day)
    for offset in range(1, day + 1):
        engine.close_day(positions, terms, start + timedelta(days=offset))
    if paid:
        engine.apply_payment(positions, terms, min(Decimal(paid), engine.payoff_amount(positions, terms, on)), on)
    if all(p.is_settled for p in positions):
        return
    principal_owed = sum((p.owed(engine.PRINCIPAL) for p in positions if not p.is_settled), ZERO)
    total_owed_before = engine.payoff_amount(positions, terms, on)

    result = engine.restructure(positions, terms, on, term_months=term, capitalise=capitalise)

    capitalised = sum((p.amount for p in result.capitalised), ZERO)
    assert result.principal == principal_owed + capitalised
    assert sum((p.principal for p in result.new), ZERO) == result.principal
    assert all(p.owed(engine.PRINCIPAL) == 0 for p in positions)
    # Paying the whole loan off right after costs exactly what it did before.
    after = [*positions, *result.new]
    assert engine.payoff_amount(after, terms, on) == total_owed_before


def test_loan_restructure_refuses_bad_terms_and_writes_nothing(late_case, loan):
    for term, code in [(0, "invalid_term"), (37, "invalid_term"), ("12", "invalid_term")]:
        with pytest.raises(DomainError) as refused:
            loan_restructure(loan_id=loan.pk, term_months=term, capitalise=True, reason="x")
        assert refused.value.code == code
    assert not LoanRestructure.objects.exists()
    assert not Installment.objects.filter(loan=loan, state="restructured").exists()


@pytest.mark.parametrize(
    ("who", "code"),
    [("same", "four_eyes"), ("nobody", "not_staff")],
)
def test_hardship_needs_a_second_staff_approver(late_case, collector, manager, who, code):
    approver = collector if who == "same" else None
    with pytest.raises(DomainError) as refused:
        hardship_restructure(
            case_id=late_case.pk, term_months=12, capitalise=True, reason="x", requested_by=collector,
            approved_by=approver,
        )  # fmt: skip
    assert refused.value.code == code
    assert not HardshipRecord.objects.exists() and not LoanRestructure.objects.exists()


def test_a_pause_keeps_the_case_in_its_queue(loan, collector, manager, close_to, case_of):
    close_to(date(2031, 3, 10))
    case = case_of(loan)
    hardship_pause(
        case_id=case.pk, until=date(2031, 3, 25), reason="in hospital", requested_by=collector, approved_by=manager
    )
    close_to(date(2031, 3, 20))  # M2 by now, but paused
    case.refresh_from_db()
    assert (case.bucket, case.queue, case.collector) == ("M2", "early", collector)


def test_the_case_catches_up_with_its_queue_when_the_pause_ends(loan, collector, manager, close_to, case_of):
    close_to(date(2031, 3, 10))
    case = case_of(loan)
    hardship_pause(
        case_id=case.pk, until=date(2031, 3, 25), reason="in hospital", requested_by=collector, approved_by=manager
    )
    close_to(date(2031, 3, 27))  # the close of Mar 26, the first day after the pause
    case.refresh_from_db()
    assert (case.bucket, case.queue) == ("M2", "intensive")


def test_pause_dates_are_checked(late_case, collector, manager):
    for until in (date(2031, 3, 20), date(2031, 7, 1)):
        with pytest.raises(DomainError) as refused:
            hardship_pause(case_id=late_case.pk, until=until, reason="x", requested_by=collector, approved_by=manager)
        assert refused.value.field == "until"
    assert not HardshipRecord.objects.exists()


def test_escalation_to_an_agency_is_recorded(late_case, manager):
    escalation = case_escalate(
        case_id=late_case.pk, kind="agency", agency="Huaxia Recovery", reason="no contact", actor=manager
    )
    late_case.refresh_from_db()
    assert late_case.state == CollectionCase.State.ESCALATED
    assert escalation.agency == "Huaxia Recovery"


def test_escalation_needs_an_agency_name(late_case, manager):
    with pytest.raises(DomainError) as refused:
        case_escalate(case_id=late_case.pk, kind="agency", reason="no contact", actor=manager)
    assert refused.value.field == "agency"
    assert not Escalation.objects.exists()


def test_a_recovery_after_write_off_is_recovery_income_shown_on_the_case(loan, manager, close_to, case_of):
    close_to(date(2031, 2, 17))
    case = case_of(loan)
    close_to(date(2031, 8, 16))
    case.refresh_from_db()
    assert case.state == CollectionCase.State.WRITTEN_OFF

    with pytest.raises(DomainError):
        recovery_post(case_id=case.pk, loan_id=loan.pk, amount="-1", source_reference="r1", actor=manager)
    recovery = recovery_post(
        case_id=case.pk, loan_id=loan.pk, amount="1500.00", source_reference="court-1", actor=manager
    )

    assert list(case.recoveries.all()) == [recovery]
    assert account_balances(loan_id=loan.pk)[chart.RECOVERIES] == Decimal("-1500.00")
    with pytest.raises(DomainError) as refused:
        recovery_post(case_id=case.pk, loan_id=loan.pk, amount="10", source_reference="court-1", actor=manager)
    assert refused.value.code == "duplicate_reference"
    assert Recovery.objects.count() == 1
    assert_consistent(loan)


def test_a_recovery_on_a_live_loan_is_refused(late_case, loan, manager):
    with pytest.raises(DomainError) as refused:
        recovery_post(case_id=late_case.pk, loan_id=loan.pk, amount="100", source_reference="x", actor=manager)
    assert refused.value.code == "loan_not_written_off"
    assert not Recovery.objects.exists()
