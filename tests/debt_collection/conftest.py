"""Fixtures for the collections tests: a borrower with a loan, collectors, and a way to make the loan late.

The loan is the lending tests' standard one (12,000 over 12 months, equal
installments, disbursed on 2031-01-15), so its first installment is due on
2031-02-15 and the close of 2031-02-16 makes it 1 day past due.
"""

import itertools
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from stdnum.cn import ric

from core.business_date import business_date_current, business_date_set
from core.close import days_close_until
from debt_collection.models import CollectionCase, CollectorProfile
from debt_collection.services import COLLECTORS_GROUP
from lending.models import Installment, Loan, Partner, Product
from lending.services.borrowers import borrower_onboard_person
from lending.services.credit_lines import credit_line_open
from lending.services.loans import loan_disburse, loan_drawdown

START = date(2031, 1, 15)
FIRST_DUE = date(2031, 2, 15)
_ids = itertools.count(1)


@pytest.fixture
def start_date(db) -> date:
    return business_date_set(new_date=START, reason="collections test set-up")


@pytest.fixture
def partner(db) -> Partner:
    return Partner.objects.create(code="acme", name="Acme Finance")


@pytest.fixture
def make_loan(partner, start_date):
    """A new borrower with a line and a disbursed 12,000 loan (or `amount`); returns the loan."""

    def make(amount=Decimal("12000")) -> Loan:
        serial = next(_ids)
        first_17 = f"11010119850101{serial:03d}"
        borrower = borrower_onboard_person(
            partner=partner,
            name=f"Debtor {serial}",
            national_id=first_17 + ric.calc_check_digit(first_17 + "0"),
            mobile=f"1391234{serial:04d}",
            monthly_income=Decimal("12000"),
            today=start_date,
        )
        line = credit_line_open(
            borrower=borrower,
            product=Product.objects.get(code="revolving-cash-line"),
            limit=Decimal("50000"),
            daily_rate=Decimal("0.0004"),
            reason="approved",
        )
        loan = loan_drawdown(credit_line_id=line.pk, amount=amount, term_months=12, method="equal_installment")
        return Loan.objects.get(pk=loan_disburse(loan_id=loan.pk).pk)

    return make


@pytest.fixture
def loan(make_loan) -> Loan:
    return make_loan()


@pytest.fixture
def make_collector(db):
    def make(name: str, *, capacity: int = 150, queue: str = "") -> User:
        user = User.objects.create_user(username=name, password="x", is_staff=True)
        user.groups.add(Group.objects.get(name=COLLECTORS_GROUP))
        CollectorProfile.objects.create(user=user, capacity=capacity, queue=queue)
        return user

    return make


@pytest.fixture
def collector(make_collector) -> User:
    return make_collector("li.collector")


@pytest.fixture
def manager(db) -> User:
    return User.objects.create_user(username="wang.manager", password="x", is_staff=True)


@pytest.fixture
def close_to():
    """Open `day`: close each day before it, skipping quiet stretches (nothing due or overdue)."""

    def advance(day: date) -> None:
        while (current := business_date_current()) < day:
            busy = (
                Installment.objects.filter(
                    loan__state__in=[Loan.State.CURRENT, Loan.State.OVERDUE],
                    state__in=[Installment.State.DUE, Installment.State.OVERDUE],
                ).exists()
                or CollectionCase.objects.filter(state__in=CollectionCase.ACTIVE).exists()
            )
            if busy:
                days_close_until(until=current)
                continue
            next_due = (
                Installment.objects.filter(
                    loan__state__in=[Loan.State.CURRENT, Loan.State.OVERDUE],
                    state=Installment.State.SCHEDULED,
                    due_date__gte=current,
                )
                .order_by("due_date")
                .values_list("due_date", flat=True)
                .first()
            )
            if next_due == current:
                days_close_until(until=current)
                continue
            business_date_set(new_date=min(day, next_due or day), reason="quiet days skipped by the test")

    return advance


@pytest.fixture
def case_of():
    def get(loan: Loan) -> CollectionCase:
        return CollectionCase.objects.get(borrower=loan.credit_line.borrower, state__in=CollectionCase.ACTIVE)

    return get
