"""verify_ledger over a lending book: a realistic month is clean; a tampered loan balance is reported."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import F

from core.business_date import business_date_current
from ledger.selectors import trial_balance_difference
from ledger.verification import ledger_problems
from lending.models import Loan
from lending.services.repayments import payoff_quote, repayment_post, repayment_reverse

pytestmark = pytest.mark.django_db

FIRST_DUE = date(2031, 2, 15)


def pay_off(loan) -> None:
    loan = Loan.objects.get(pk=loan.pk)
    repayment_post(
        loan_id=loan.pk,
        amount=payoff_quote(loan=loan, on_date=business_date_current(), today=business_date_current()).amount,
    )


@pytest.fixture
def month(make_borrower, make_line, make_loan, close_through):
    """Five loans over a month, every day closed: prepaid, paid on time, short, unpaid, paid off, reversed."""
    loans = [
        make_loan(make_line(make_borrower()), Decimal(amount), term_months=term, method=method)
        for amount, term, method in [
            ("12000", 12, "equal_installment"),
            ("6000", 3, "equal_principal"),
            ("8000", 6, "interest_first"),
            ("20000", 12, "equal_installment"),
            ("3000", 3, "equal_principal"),
        ]
    ]
    close_through(date(2031, 1, 24))
    repayment_post(loan_id=loans[0].pk, amount=Decimal("2500"))  # a prepayment
    close_through(date(2031, 1, 31))
    pay_off(loans[4])
    close_through(FIRST_DUE - timedelta(days=1))
    first = loans[1].installments.get(number=1)
    repayment_post(loan_id=loans[1].pk, amount=first.principal + first.interest)  # on time
    returned = repayment_post(loan_id=loans[2].pk, amount=Decimal("50"))  # short
    close_through(FIRST_DUE + timedelta(days=3))
    repayment_post(loan_id=loans[2].pk, amount=Decimal("120"))
    close_through(FIRST_DUE + timedelta(days=5))
    repayment_reverse(repayment_id=returned.pk, reason="returned by the bank")
    close_through(FIRST_DUE + timedelta(days=7))
    return loans


def test_verify_ledger_reports_nothing_after_a_realistic_month(month):
    states = {loan.state for loan in Loan.objects.filter(pk__in=[loan.pk for loan in month])}
    assert {Loan.State.CURRENT, Loan.State.OVERDUE, Loan.State.PAID_OFF} <= states

    assert list(ledger_problems()) == []
    assert trial_balance_difference() == Decimal("0")


@pytest.mark.parametrize("field", ["principal_outstanding", "interest_outstanding", "penalty_outstanding"])
def test_a_tampered_cached_loan_balance_is_reported_as_a_loan_balance_problem(loan, skip_to, close_through, field):
    skip_to(FIRST_DUE)
    close_through(FIRST_DUE + timedelta(days=2))
    assert list(ledger_problems()) == []

    Loan.objects.filter(pk=loan.pk).update(**{field: F(field) + Decimal("1.00")})

    problems = list(ledger_problems())
    assert [(p.check, p.where) for p in problems] == [("loan_balance", f"loan {loan.number}")]
    assert field in problems[0].detail
