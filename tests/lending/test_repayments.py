"""Repayments: the waterfall on the due date, underpayment and penalty, prepayment, payoff, residue."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from core.business_date import business_date_current
from core.errors import DomainError
from core.money import round_fen
from ledger.chart import (
    CASH,
    INTEREST_INCOME,
    PENALTY_INCOME,
    PENALTY_RECEIVABLE,
    PRINCIPAL_RECEIVABLE,
    RESIDUE_WRITE_OFF_EXPENSE,
)
from ledger.models import JournalEntry, JournalLine
from ledger.selectors import account_balances
from lending.models import CreditLine, Installment, Loan, Repayment, RepaymentAllocation
from lending.services.repayments import payoff_quote, repayment_post

pytestmark = pytest.mark.django_db

RATE = Decimal("0.0004")
FIRST_DUE = date(2031, 2, 15)


def installment(loan, number: int) -> Installment:
    return Installment.objects.get(loan=loan, number=number)


def reloaded(loan) -> Loan:
    return Loan.objects.get(pk=loan.pk)


def line_used(loan) -> Decimal:
    return CreditLine.objects.get(pk=loan.credit_line_id).used


def open_installments(loan) -> list[Installment]:
    return list(loan.installments.exclude(state=Installment.State.PAID).order_by("number"))


def amount_due(row: Installment) -> Decimal:
    return row.principal + row.interest + row.fee


def quote_today(loan) -> Decimal:
    return payoff_quote(loan=reloaded(loan), on_date=business_date_current(), today=business_date_current()).amount


# --- on the due date ----------------------------------------------------------------------


def test_a_payment_on_the_due_date_before_the_close_keeps_the_installment_from_ever_going_overdue(
    loan, skip_to, close_through
):
    skip_to(FIRST_DUE)
    repayment_post(loan_id=loan.pk, amount=amount_due(installment(loan, 1)))

    close_through(FIRST_DUE + timedelta(days=3))

    first = installment(loan, 1)
    assert (first.state, first.paid_on, first.penalty) == (Installment.State.PAID, FIRST_DUE, Decimal("0"))
    assert reloaded(loan).state == Loan.State.CURRENT
    assert reloaded(loan).penalty_outstanding == Decimal("0")
    assert PENALTY_INCOME not in account_balances(loan_id=loan.pk)


def test_a_payment_on_the_due_date_credits_its_interest_straight_to_income(loan, skip_to):
    skip_to(FIRST_DUE)
    first = installment(loan, 1)

    repayment_post(loan_id=loan.pk, amount=amount_due(first))

    balances = account_balances(loan_id=loan.pk)
    assert balances[INTEREST_INCOME] == -first.interest
    assert balances[PRINCIPAL_RECEIVABLE] == loan.principal - first.principal
    assert balances[CASH] == -loan.principal + amount_due(first)


def test_an_underpayment_leaves_the_installment_overdue_after_the_close(loan, skip_to, close_through):
    skip_to(FIRST_DUE)
    repayment_post(loan_id=loan.pk, amount=amount_due(installment(loan, 1)) - Decimal("100"))

    close_through(FIRST_DUE + timedelta(days=1))

    first = installment(loan, 1)
    assert first.state == Installment.State.OVERDUE
    assert first.principal - first.principal_paid == Decimal("100")
    assert reloaded(loan).state == Loan.State.OVERDUE


def test_penalty_accrues_every_day_on_the_overdue_principal_of_an_underpaid_installment(loan, skip_to, close_through):
    skip_to(FIRST_DUE)
    repayment_post(loan_id=loan.pk, amount=amount_due(installment(loan, 1)) - Decimal("100"))
    close_through(FIRST_DUE)

    penalties = []
    for days in (1, 2, 3):
        close_through(FIRST_DUE + timedelta(days=days))
        penalties.append(installment(loan, 1).penalty)

    # 100 overdue × 0.04 % × 1.5 = 0.06 a day.
    assert penalties == [Decimal("0.06"), Decimal("0.12"), Decimal("0.18")]
    assert reloaded(loan).penalty_outstanding == Decimal("0.18")
    assert account_balances(loan_id=loan.pk)[PENALTY_RECEIVABLE] == Decimal("0.18")


def test_the_next_payment_pays_the_penalty_first_and_cures_the_loan(loan, skip_to, close_through):
    skip_to(FIRST_DUE)
    repayment_post(loan_id=loan.pk, amount=amount_due(installment(loan, 1)) - Decimal("100"))
    close_through(FIRST_DUE + timedelta(days=3))

    repayment_post(loan_id=loan.pk, amount=Decimal("100.18"))

    allocation = RepaymentAllocation.objects.get(repayment=Repayment.objects.latest("id"))
    assert (allocation.penalty, allocation.principal) == (Decimal("0.18"), Decimal("100"))
    assert installment(loan, 1).state == Installment.State.PAID
    assert reloaded(loan).state == Loan.State.CURRENT


# --- prepayment ------------------------------------------------------------------------------


def test_a_prepayment_keeps_the_term_and_lowers_every_remaining_installment(loan, skip_to):
    before = open_installments(loan)
    skip_to(date(2031, 2, 1))

    repayment_post(loan_id=loan.pk, amount=Decimal("4000"))

    after = open_installments(loan)
    assert [i.number for i in after] == list(range(1, 13))
    assert all(amount_due(new) < amount_due(old) for old, new in zip(before[1:], after[1:], strict=True))
    # 17 days of interest on 12,000 are paid first; the rest prepays principal.
    interest = round_fen(Decimal("12000") * RATE * 17)
    assert reloaded(loan).principal_outstanding == Decimal("12000") - (Decimal("4000") - interest)
    assert line_used(loan) == reloaded(loan).principal_outstanding


def test_a_product_that_keeps_the_installment_shortens_the_term_instead(
    make_line, make_loan, borrower, product_variant, skip_to
):
    line = make_line(borrower, product=product_variant(prepayment="keep_installment"))
    loan = make_loan(line, Decimal("12000"))
    before = open_installments(loan)
    skip_to(date(2031, 2, 1))

    repayment_post(loan_id=loan.pk, amount=Decimal("4000"))

    after = open_installments(loan)
    assert len(after) < len(before)
    assert after[-1].due_date < before[-1].due_date
    assert amount_due(after[1]) <= amount_due(before[1])
    assert sum(i.principal - i.principal_paid for i in after) == reloaded(loan).principal_outstanding


# --- payoff ----------------------------------------------------------------------------------


def test_paying_the_payoff_quote_closes_the_loan_as_paid_off(loan, skip_to):
    skip_to(date(2031, 1, 25))

    repayment_post(loan_id=loan.pk, amount=quote_today(loan))

    paid_off = reloaded(loan)
    assert (paid_off.state, paid_off.closed_on) == (Loan.State.PAID_OFF, date(2031, 1, 25))
    assert paid_off.total_outstanding == Decimal("0")
    assert not open_installments(loan)


def test_paying_off_frees_the_whole_line(loan, skip_to):
    skip_to(date(2031, 1, 25))

    repayment_post(loan_id=loan.pk, amount=quote_today(loan))

    assert line_used(loan) == Decimal("0")


def test_a_payoff_inside_the_first_period_charges_interest_only_for_the_days_used(loan, skip_to):
    skip_to(date(2031, 1, 25))

    quote = quote_today(loan)
    repayment_post(loan_id=loan.pk, amount=quote)

    ten_days = round_fen(Decimal("12000") * RATE * 10)
    assert quote == Decimal("12000") + ten_days
    assert account_balances(loan_id=loan.pk)[INTEREST_INCOME] == -ten_days
    assert sum(i.interest for i in loan.installments.all()) == ten_days


def test_a_payoff_after_an_installment_charges_its_interest_and_the_days_used_since(loan, skip_to, close_through):
    skip_to(FIRST_DUE)
    first = installment(loan, 1)
    repayment_post(loan_id=loan.pk, amount=amount_due(first))
    close_through(FIRST_DUE)
    skip_to(FIRST_DUE + timedelta(days=10))

    repayment_post(loan_id=loan.pk, amount=quote_today(loan))

    ten_days = round_fen((Decimal("12000") - first.principal) * RATE * 10)
    assert -account_balances(loan_id=loan.pk)[INTEREST_INCOME] == first.interest + ten_days
    assert reloaded(loan).state == Loan.State.PAID_OFF


def test_a_payment_above_the_payoff_amount_is_refused_and_writes_nothing(loan, skip_to):
    skip_to(date(2031, 1, 25))
    rows_before = list(loan.installments.values())
    counts_before = (Repayment.objects.count(), JournalEntry.objects.count(), line_used(loan))

    with pytest.raises(DomainError) as refused:
        repayment_post(loan_id=loan.pk, amount=quote_today(loan) + Decimal("0.01"))

    assert (refused.value.code, refused.value.field) == ("exceeds_payoff", "amount")
    assert (Repayment.objects.count(), JournalEntry.objects.count(), line_used(loan)) == counts_before
    assert list(loan.installments.values()) == rows_before
    assert reloaded(loan).state == Loan.State.CURRENT


def test_a_paid_off_loan_takes_no_more_repayments(loan, skip_to):
    skip_to(date(2031, 1, 25))
    repayment_post(loan_id=loan.pk, amount=quote_today(loan))

    with pytest.raises(DomainError) as refused:
        repayment_post(loan_id=loan.pk, amount=Decimal("10"))

    assert refused.value.code == "loan_not_open"
    assert Repayment.objects.count() == 1


# --- residue ---------------------------------------------------------------------------------


def test_paying_the_payoff_less_50_fen_closes_the_loan_and_writes_the_residue_off(loan, skip_to):
    skip_to(date(2031, 1, 25))

    repayment_post(loan_id=loan.pk, amount=quote_today(loan) - Decimal("0.50"))

    assert reloaded(loan).state == Loan.State.PAID_OFF
    assert line_used(loan) == Decimal("0")
    write_off = JournalEntry.objects.get(kind="residue_write_off")
    lines = {(ln.account.code, ln.debit, ln.credit) for ln in JournalLine.objects.filter(entry=write_off)}
    assert lines == {
        (RESIDUE_WRITE_OFF_EXPENSE, Decimal("0.50"), Decimal("0")),
        (PRINCIPAL_RECEIVABLE, Decimal("0"), Decimal("0.50")),
    }
    assert account_balances(loan_id=loan.pk)[PRINCIPAL_RECEIVABLE] == Decimal("0")


def test_paying_the_payoff_less_more_than_the_tolerance_leaves_the_loan_open(loan, skip_to):
    skip_to(date(2031, 1, 25))

    repayment_post(loan_id=loan.pk, amount=quote_today(loan) - Decimal("1.01"))

    assert reloaded(loan).state == Loan.State.CURRENT
    assert reloaded(loan).principal_outstanding == Decimal("1.01")
    assert not JournalEntry.objects.filter(kind="residue_write_off").exists()


# --- idempotency and bad input ----------------------------------------------------------------


def test_a_repeated_repayment_with_the_same_key_is_recorded_once(loan, skip_to):
    skip_to(date(2031, 1, 25))
    first = repayment_post(loan_id=loan.pk, amount=Decimal("500"), idempotency_key="bank-77")

    again = repayment_post(loan_id=loan.pk, amount=Decimal("500"), idempotency_key="bank-77")

    assert again.pk == first.pk
    assert Repayment.objects.count() == 1
    assert JournalEntry.objects.filter(kind="repayment").count() == 1
    assert reloaded(loan).principal_outstanding == Decimal("12000") - (Decimal("500") - Decimal("48.00"))


def test_the_same_repayment_key_with_another_amount_is_an_idempotency_conflict(loan, skip_to):
    skip_to(date(2031, 1, 25))
    repayment_post(loan_id=loan.pk, amount=Decimal("500"), idempotency_key="bank-77")

    with pytest.raises(DomainError) as refused:
        repayment_post(loan_id=loan.pk, amount=Decimal("600"), idempotency_key="bank-77")

    assert (refused.value.code, refused.value.field) == ("idempotency_conflict", "idempotency_key")
    assert Repayment.objects.count() == 1


@pytest.mark.parametrize(
    "amount, code",
    [
        (Decimal("0"), "amount_not_positive"),
        (Decimal("-5"), "amount_not_positive"),
        (Decimal("10.001"), "amount_too_precise"),
        (Decimal("NaN"), "invalid_amount"),
        (100.0, "invalid_amount"),
    ],
)
def test_a_repayment_of_a_bad_amount_is_refused_naming_the_amount(loan, amount, code):
    with pytest.raises(DomainError) as refused:
        repayment_post(loan_id=loan.pk, amount=amount)

    assert (refused.value.code, refused.value.field) == (code, "amount")
    assert not Repayment.objects.exists()
