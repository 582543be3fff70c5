"""Lending's close-of-day step: installments fall due and go overdue, interest becomes receivable,
penalty accrues; a re-run or a crashed run that is run again never posts twice."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction

import core.close
import lending.close
from core.close import day_close
from core.models import CloseStepRun
from core.money import round_fen
from core.progress import SilentProgress
from ledger.chart import INTEREST_INCOME, INTEREST_RECEIVABLE
from ledger.models import JournalEntry
from ledger.selectors import account_balances
from lending.models import Installment, Loan
from lending.services.repayments import payoff_quote, repayment_post

pytestmark = pytest.mark.django_db

FIRST_DUE = date(2031, 2, 15)
STEP = "lending.accrue"


def first_installment(loan) -> Installment:
    return Installment.objects.get(loan=loan, number=1)


def test_an_installment_falls_due_on_its_date_and_its_interest_becomes_receivable(loan, skip_to, close_through):
    skip_to(FIRST_DUE - timedelta(days=1))
    close_through(FIRST_DUE - timedelta(days=1))
    assert first_installment(loan).state == Installment.State.SCHEDULED
    assert INTEREST_RECEIVABLE not in account_balances(loan_id=loan.pk)

    close_through(FIRST_DUE)

    first = first_installment(loan)
    balances = account_balances(loan_id=loan.pk)
    assert first.state != Installment.State.SCHEDULED
    assert balances[INTEREST_RECEIVABLE] == first.interest
    assert balances[INTEREST_INCOME] == -first.interest
    assert Loan.objects.get(pk=loan.pk).interest_outstanding == first.interest


def test_an_unpaid_installment_is_still_due_after_the_close_of_its_due_date(loan, skip_to, close_through):
    skip_to(FIRST_DUE)

    close_through(FIRST_DUE)

    assert first_installment(loan).state == Installment.State.DUE
    assert Loan.objects.get(pk=loan.pk).state == Loan.State.CURRENT


def test_an_unpaid_installment_is_overdue_with_one_day_of_penalty_after_the_next_close(loan, skip_to, close_through):
    skip_to(FIRST_DUE)

    close_through(FIRST_DUE + timedelta(days=1))

    first = first_installment(loan)
    assert first.state == Installment.State.OVERDUE
    assert first.penalty == round_fen(first.principal * Decimal("0.0004") * Decimal("1.5"))
    assert Loan.objects.get(pk=loan.pk).state == Loan.State.OVERDUE


def test_with_grace_days_an_unpaid_installment_is_due_until_the_grace_runs_out(
    make_line, make_loan, borrower, product_variant, skip_to, close_through
):
    line = make_line(borrower, product=product_variant(grace_days=3))
    loan = make_loan(line)
    skip_to(FIRST_DUE)

    close_through(FIRST_DUE + timedelta(days=3))
    in_grace = first_installment(loan)
    close_through(FIRST_DUE + timedelta(days=4))

    assert (in_grace.state, in_grace.penalty) == (Installment.State.DUE, Decimal("0"))
    first = first_installment(loan)
    assert first.state == Installment.State.OVERDUE
    # Past the grace, the days since the due date are charged too.
    assert first.penalty == round_fen(first.principal * Decimal("0.0004") * Decimal("1.5") * 4)


def test_the_close_leaves_a_paid_off_loan_alone(make_borrower, make_line, make_loan, skip_to, close_through):
    loan = make_loan(make_line(make_borrower()), Decimal("6000"), term_months=3)
    skip_to(date(2031, 1, 20))

    repayment_post(
        loan_id=loan.pk,
        amount=payoff_quote(loan=loan, on_date=date(2031, 1, 20), today=date(2031, 1, 20)).amount,
    )
    entries = JournalEntry.objects.count()
    skip_to(FIRST_DUE)

    close_through(FIRST_DUE + timedelta(days=2))

    assert JournalEntry.objects.count() == entries
    assert Loan.objects.get(pk=loan.pk).state == Loan.State.PAID_OFF


# --- re-runs ---------------------------------------------------------------------------------


def installment_rows():
    return list(Installment.objects.order_by("loan_id", "number").values())


def test_a_rerun_of_the_lending_step_for_the_same_date_posts_nothing_more(
    make_borrower, make_line, make_loan, skip_to, close_through
):
    for method in ("equal_installment", "equal_principal", "interest_first"):
        make_loan(make_line(make_borrower()), Decimal("9000"), term_months=3, method=method)
    skip_to(FIRST_DUE)
    close_through(FIRST_DUE)
    day = FIRST_DUE + timedelta(days=1)  # a day with penalty to accrue on every loan
    lending.close.accrue(business_date=day, progress=SilentProgress())
    entries, rows = JournalEntry.objects.count(), installment_rows()

    lending.close.accrue(business_date=day, progress=SilentProgress())
    day_close(business_date=day)

    assert JournalEntry.objects.count() == entries
    assert installment_rows() == rows


class Rollback(Exception):
    pass


@pytest.fixture
def book(make_borrower, make_line, make_loan, skip_to):
    """Seven loans whose first installments fall due on FIRST_DUE: paid, underpaid or not paid at all."""

    def build() -> list[Loan]:
        loans = [
            make_loan(make_line(make_borrower()), Decimal(amount), term_months=term, method=method)
            for amount, term, method in [
                ("12000", 12, "equal_installment"),
                ("9000", 6, "equal_principal"),
                ("5000", 3, "interest_first"),
                ("20000", 12, "equal_principal"),
                ("3000", 3, "equal_installment"),
                ("7500", 6, "interest_first"),
                ("15000", 6, "equal_installment"),
            ]
        ]
        skip_to(FIRST_DUE)
        first = first_installment(loans[0])
        repayment_post(loan_id=loans[0].pk, amount=first.principal + first.interest)  # in full
        repayment_post(loan_id=loans[3].pk, amount=Decimal("1000"))  # short
        repayment_post(loan_id=loans[5].pk, amount=Decimal("20"))  # short
        return loans

    return build


def close_two_days():
    day_close(business_date=FIRST_DUE)
    day_close(business_date=FIRST_DUE + timedelta(days=1))


def test_a_close_that_crashed_midway_and_is_run_again_ends_like_a_clean_close(book, loan_snapshot, monkeypatch):
    # The clean run, on a book that is rolled back afterwards.
    with pytest.raises(Rollback):
        with transaction.atomic():
            loans = book()
            close_two_days()
            clean = [loan_snapshot(loan) for loan in loans]
            raise Rollback
    # The same book again; the close crashes at the end of its second chunk of two loans.
    loans = book()
    accrue_chunk, calls = lending.close.accrue_chunk, []

    def crash_in_the_second_chunk(*, business_date, ids):
        calls.append(ids)
        if len(calls) == 2:
            with transaction.atomic():
                accrue_chunk(business_date=business_date, ids=ids)  # the chunk's work is done…
                raise RuntimeError("simulated crash")  # …and lost before it commits
        return accrue_chunk(business_date=business_date, ids=ids)

    monkeypatch.setattr(lending.close, "CHUNK", 2)
    monkeypatch.setitem(core.close._chunk_handlers, "lending.accrue", crash_in_the_second_chunk)
    with pytest.raises(RuntimeError, match="simulated crash"):
        day_close(business_date=FIRST_DUE)
    # The first chunk was committed; the second was not, nor anything after it.
    scheduled = {loan.pk for loan in loans if first_installment(loan).state == Installment.State.SCHEDULED}
    assert scheduled.isdisjoint(calls[0])
    assert scheduled >= set(calls[1]) and len(scheduled) > len(calls[1])

    close_two_days()

    assert [loan_snapshot(loan) for loan in loans] == clean
    assert CloseStepRun.objects.get(business_date=FIRST_DUE, step=STEP).attempts == 2
