"""Shared fixtures for the lending tests: a partner, the demo product, borrowers, lines and loans.

Everything starts on the business date `START` (set with `business_date_set`);
tests move it forward only by closing days (`core.close.days_close_until`).
Helpers live here as fixtures returning callables, because with
`--import-mode=importlib` test modules cannot import each other.
"""

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from stdnum.cn import ric

from core.business_date import business_date_current, business_date_set
from core.close import days_close_until
from ledger.selectors import account_balances
from lending.models import Installment, Loan, Partner, Product
from lending.positions import POSITION_FIELDS
from lending.services.borrowers import borrower_onboard_person
from lending.services.credit_lines import credit_line_open
from lending.services.loans import loan_disburse, loan_drawdown

# Mid-month, so the first due date (Feb 15) is in a short month.
START = date(2031, 1, 15)
LIMIT = Decimal("50000")
DAILY_RATE = Decimal("0.0004")
LOAN_AMOUNT = Decimal("12000")

_ids = itertools.count(1)


def national_id(serial: int) -> str:
    """A valid resident id (region 110101, born 1990-01-01) for each serial 0–999."""
    first_17 = f"11010119900101{serial:03d}"
    return first_17 + ric.calc_check_digit(first_17 + "0")


def mobile(serial: int) -> str:
    return f"1381234{serial:04d}"


@pytest.fixture
def start_date(db) -> date:
    return business_date_set(new_date=START, reason="lending test set-up")


@pytest.fixture
def partner(db) -> Partner:
    return Partner.objects.create(code="acme", name="Acme Finance")


@pytest.fixture
def other_partner(db) -> Partner:
    return Partner.objects.create(code="globex", name="Globex Channel")


@pytest.fixture
def product(db) -> Product:
    """The demo product the migration creates."""
    return Product.objects.get(code="revolving-cash-line")


@pytest.fixture
def product_variant(product):
    """A copy of the demo product with some settings changed, e.g. `product_variant(apr_cap=...)`."""

    def make(**changes) -> Product:
        variant = Product.objects.get(pk=product.pk)
        variant.pk = None
        variant.code = f"variant-{next(_ids)}"
        for name, value in changes.items():
            setattr(variant, name, value)
        variant.save()
        return variant

    return make


@pytest.fixture
def make_borrower(partner, start_date):
    """Onboard a fresh person (a new national id and mobile each call)."""

    def make(*, via: Partner | None = None, name: str = "Zhang San"):
        serial = next(_ids)
        return borrower_onboard_person(
            partner=via or partner,
            name=name,
            national_id=national_id(serial % 1000),
            mobile=mobile(serial % 10000),
            monthly_income=Decimal("12000"),
            today=start_date,
        )

    return make


@pytest.fixture
def borrower(make_borrower):
    return make_borrower()


@pytest.fixture
def make_line(product, start_date):
    def make(borrower, *, limit=LIMIT, daily_rate=DAILY_RATE, product=product):
        return credit_line_open(
            borrower=borrower, product=product, limit=limit, daily_rate=daily_rate, reason="approved"
        )

    return make


@pytest.fixture
def line(make_line, borrower):
    """An active line of 50,000 at 0.04 %/day on the demo product."""
    return make_line(borrower)


@pytest.fixture
def make_loan():
    """Draw on a line and (by default) disburse on the open business date."""

    def make(line, amount=LOAN_AMOUNT, *, term_months=12, method="equal_installment", disburse=True):
        loan = loan_drawdown(credit_line_id=line.pk, amount=amount, term_months=term_months, method=method)
        if disburse:
            loan = loan_disburse(loan_id=loan.pk)
        return Loan.objects.get(pk=loan.pk)

    return make


@pytest.fixture
def loan(make_loan, line):
    """12,000 over 12 months, equal installments, disbursed on START."""
    return make_loan(line)


@pytest.fixture
def loan_snapshot():
    """Everything that must match between two loans built the same way, free of ids and numbers."""

    def snapshot(loan: Loan) -> dict:
        loan = Loan.objects.select_related("credit_line").get(pk=loan.pk)
        return {
            "state": loan.state,
            "closed_on": loan.closed_on,
            "balances": {
                name: getattr(loan, name)
                for name in (
                    "principal_outstanding",
                    "interest_outstanding",
                    "fee_outstanding",
                    "penalty_outstanding",
                )
            },
            "line_used": loan.credit_line.used,
            "installments": [
                {"number": row.number, **{name: getattr(row, name) for name in POSITION_FIELDS}}
                for row in loan.installments.order_by("number")
            ],
            "ledger": {account: balance for account, balance in account_balances(loan_id=loan.pk).items() if balance},
        }

    return snapshot


@pytest.fixture
def close_through():
    """Close every business day from the open date up to and including `day` (the full close)."""

    def close(day: date) -> list[date]:
        return days_close_until(until=day)

    return close


@pytest.fixture
def skip_to():
    """Open `day` without closing the days before it, allowed only while nothing happens on them.

    No installment may be due or overdue, nor fall due before `day`: the close
    of those days would do nothing, so skipping them (to keep the tests fast)
    changes no outcome, and the reversal replay (which closes every day) agrees.
    """

    def skip(day: date) -> date:
        assert day >= business_date_current()
        assert not _busy(day - timedelta(days=1)).exists(), "skip_to would skip a day with something to close"
        return business_date_set(new_date=day, reason="quiet days skipped by the test")

    return skip


def _busy(on: date):
    """Installments of open loans on which the close of `on` would do something."""
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
