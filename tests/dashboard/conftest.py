"""A small book for the dashboard: three loans drawn on 2031-01-15, one paid off at once, two never paying.

By the end of 2031-03-25 the two are 38 days past due (M2, 30+ DPD); at the end of February they were
13 days past due (M1), so the roll-rate matrix shows M1 → M2 and the January vintage reaches 30+ in
its second month on book.
"""

import itertools
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.db import transaction
from stdnum.cn import ric

from core.business_date import business_date_set
from core.close import days_close_until
from lending.models import Partner, Product
from lending.services.borrowers import borrower_onboard_person
from lending.services.credit_lines import credit_line_open
from lending.services.loans import loan_disburse, loan_drawdown
from lending.services.repayments import payoff_quote, repayment_post

START = date(2031, 1, 15)
FIRST_DUE = date(2031, 2, 15)
AS_OF = date(2031, 3, 25)
_ids = itertools.count(1)


def _loan(partner: Partner, today: date):
    serial = next(_ids)
    first_17 = f"11010119880101{serial:03d}"
    borrower = borrower_onboard_person(
        partner=partner,
        name=f"Borrower {serial}",
        national_id=first_17 + ric.calc_check_digit(first_17 + "0"),
        mobile=f"1371234{serial:04d}",
        monthly_income=Decimal("12000"),
        today=today,
    )
    line = credit_line_open(
        borrower=borrower,
        product=Product.objects.get(code="revolving-cash-line"),
        limit=Decimal("50000"),
        daily_rate=Decimal("0.0004"),
        reason="approved",
    )
    loan = loan_drawdown(credit_line_id=line.pk, amount=Decimal("10000"), term_months=12, method="equal_installment")
    return loan_disburse(loan_id=loan.pk)


@pytest.fixture(scope="module")
def book(django_db_setup, django_db_blocker):
    """Closes every day up to and including AS_OF; returns the loans (paid off, late, late).

    Forty closes are slow, so the book is built once per module inside a transaction that is rolled
    back after the module's tests (each of which runs in its own savepoint).
    """
    with django_db_blocker.unblock(), transaction.atomic():
        business_date_set(new_date=START, reason="dashboard test set-up")
        partner = Partner.objects.create(code="acme", name="Acme Finance")
        loans = [_loan(partner, START) for _ in range(3)]
        quote = payoff_quote(loan=loans[0], on_date=START, today=START)
        repayment_post(loan_id=loans[0].pk, amount=quote.amount)
        # Nothing falls due before the first due date: skip the quiet month instead of closing it.
        business_date_set(new_date=FIRST_DUE, reason="quiet month skipped by the dashboard test")
        days_close_until(until=AS_OF)
        yield loans
        transaction.set_rollback(True)


@pytest.fixture
def analyst(db):
    """Staff with only the dashboard permission and the loan list."""
    user = User.objects.create_user("analyst", password="analyst-pass-1", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="view_dashboard"), Permission.objects.get(codename="view_loan")
    )
    return user
