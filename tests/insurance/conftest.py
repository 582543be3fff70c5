"""Fixtures for the insurance tests: the lending set-up (a partner, the demo product, lines, loans)
plus an insurer with an active policy covering the demo product.

Helpers are fixtures returning callables: with `--import-mode=importlib`
test modules cannot import each other, nor the lending tests' conftest.
"""

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from stdnum.cn import ric

from core.business_date import business_date_current, business_date_set
from core.close import days_close_until
from insurance.models import Insurer, Policy
from insurance.services.policies import policy_transition
from ledger.selectors import account_balances
from lending.models import Installment, Loan, Partner, Product
from lending.services.borrowers import borrower_onboard_person
from lending.services.credit_lines import credit_line_open
from lending.services.loans import loan_drawdown

START = date(2031, 1, 15)
FIRST_DUE = date(2031, 2, 15)
DAILY_RATE = Decimal("0.0004")

_ids = itertools.count(1)


def _national_id(serial: int) -> str:
    first_17 = f"11010119900101{serial:03d}"
    return first_17 + ric.calc_check_digit(first_17 + "0")


@pytest.fixture
def start_date(db) -> date:
    return business_date_set(new_date=START, reason="insurance test set-up")


@pytest.fixture
def partner(db) -> Partner:
    return Partner.objects.create(code="acme", name="Acme Finance")


@pytest.fixture
def product(db) -> Product:
    return Product.objects.get(code="revolving-cash-line")


@pytest.fixture
def insurer(db) -> Insurer:
    return Insurer.objects.create(code="pingan", name="Ping An P&C")


@pytest.fixture
def make_policy(insurer, product, start_date):
    """An active policy on the demo product (DOMAIN.md defaults unless changed)."""

    def make(*, partners=(), products=None, activate=True, **changes) -> Policy:
        values = {"effective_from": start_date, "effective_to": start_date + timedelta(days=3 * 365), **changes}
        policy = Policy.objects.create(insurer=insurer, number=f"POL-{next(_ids)}", **values)
        policy.products.set(products or [product])
        policy.partners.set(partners)
        if activate:
            policy = policy_transition(policy_id=policy.pk, action="activate", reason="signed")
        return policy

    return make


@pytest.fixture
def policy(make_policy) -> Policy:
    return make_policy()


@pytest.fixture
def make_line(partner, product, start_date):
    def make(*, daily_rate=DAILY_RATE, limit=Decimal("50000"), via=None):
        serial = next(_ids)
        borrower = borrower_onboard_person(
            partner=via or partner,
            name="Li Si",
            national_id=_national_id(serial % 1000),
            mobile=f"1391234{serial % 10000:04d}",
            monthly_income=Decimal("12000"),
            today=start_date,
        )
        return credit_line_open(borrower=borrower, product=product, limit=limit, daily_rate=daily_rate, reason="ok")

    return make


@pytest.fixture
def make_loan(make_line):
    """Draw and disburse on a fresh line on the open business date."""

    def make(amount=Decimal("12000"), *, line=None, term_months=12, method="equal_installment") -> Loan:
        line = line or make_line()
        loan = loan_drawdown(
            credit_line_id=line.pk, amount=amount, term_months=term_months, method=method, disburse=True
        )
        return Loan.objects.get(pk=loan.pk)

    return make


@pytest.fixture
def close_through():
    def close(day: date) -> list[date]:
        return days_close_until(until=day)

    return close


def _busy(on: date):
    open_loans = [Loan.State.CURRENT, Loan.State.OVERDUE]
    return Installment.objects.filter(loan__state__in=open_loans).filter(
        state__in=[Installment.State.DUE, Installment.State.OVERDUE]
    ) | Installment.objects.filter(loan__state__in=open_loans, state=Installment.State.SCHEDULED, due_date__lte=on)


@pytest.fixture
def advance_to(close_through):
    """Open `day`: close every day on which something happens, skip the quiet stretches between."""

    def advance(day: date) -> None:
        while (current := business_date_current()) < day:
            if _busy(current).exists():
                close_through(current)
                continue
            next_due = (
                Installment.objects.filter(
                    loan__state__in=[Loan.State.CURRENT, Loan.State.OVERDUE],
                    state=Installment.State.SCHEDULED,
                    due_date__gt=current,
                )
                .order_by("due_date")
                .values_list("due_date", flat=True)
                .first()
            )
            business_date_set(new_date=min(day, next_due or day), reason="quiet days skipped by the test")

    return advance


@pytest.fixture
def balances():
    """The whole ledger's balances (net debit per account), zero balances left out.

    Insurance lines carry no loan id (see insurance/postings.py), so tests read the whole ledger.
    """

    def read() -> dict:
        return {code: amount for code, amount in account_balances().items() if amount}

    return read
