"""Fixtures for the workspace tests: staff users in each role and a small book that touches every screen.

Helpers are fixtures returning callables: with `--import-mode=importlib` test
modules cannot import each other.
"""

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from stdnum.cn import ric

from core.business_date import business_date_current, business_date_set
from core.close import days_close_until
from debt_collection.models import CollectorProfile
from debt_collection.services import COLLECTORS_GROUP
from insurance.models import Insurer, Policy
from insurance.services.policies import policy_transition
from lending.models import Installment, Loan, Partner, Product
from lending.services.borrowers import borrower_onboard_person
from lending.services.credit_lines import credit_line_open
from lending.services.loans import loan_drawdown
from lending.services.repayments import repayment_post
from workspace.roles import ROLES

START = date(2031, 1, 15)
_serials = itertools.count(100)

# The book's known mobile: no page may show it (nor the national id) in clear, only the reveal screen.
KNOWN_MOBILE = "13912345678"

REVIEW_DATA = {
    "credit_score": 620,
    "monthly_income": "6000.00",
    "months_on_platform": 6,
    "monthly_obligations": "1200.00",
    "existing_debt": "20000.00",
    "other_lenders": 3,
    "identity_verified": True,
    "device_verified": False,
}


def national_id(first_17: str) -> str:
    return first_17 + ric.calc_check_digit(first_17 + "0")


@pytest.fixture
def known_ids() -> dict:
    return {"national_id": national_id("11010119900101123"), "mobile": KNOWN_MOBILE}


@pytest.fixture
def role_user(db):
    """A staff user in one role's group (by group name), synced as migrate leaves it."""

    def make(group: str, *, username: str | None = None):
        user = get_user_model().objects.create_user(
            username=username or group.replace(" ", "_"), password="pw", is_staff=True
        )
        user.groups.add(Group.objects.get(name=group))
        if group == COLLECTORS_GROUP:
            CollectorProfile.objects.create(user=user, capacity=50)
        return user

    return make


@pytest.fixture
def role_groups() -> list[str]:
    return [role.group for role in ROLES]


@pytest.fixture
def start_date(db) -> date:
    return business_date_set(new_date=START, reason="workspace test set-up")


@pytest.fixture
def partner(db) -> Partner:
    return Partner.objects.create(code="acme", name="Acme Finance")


@pytest.fixture
def product(db) -> Product:
    return Product.objects.get(code="revolving-cash-line")


@pytest.fixture
def borrower(partner, start_date, known_ids):
    return borrower_onboard_person(
        partner=partner,
        name="Zhang San",
        national_id=known_ids["national_id"],
        mobile=known_ids["mobile"],
        monthly_income=Decimal("12000"),
        today=start_date,
    )


@pytest.fixture
def make_borrower(partner, start_date):
    def make(name="Li Si"):
        serial = next(_serials)
        return borrower_onboard_person(
            partner=partner,
            name=name,
            national_id=national_id(f"11010119850101{serial:03d}"),
            mobile=f"1381234{serial:04d}",
            monthly_income=Decimal("12000"),
            today=start_date,
        )

    return make


@pytest.fixture
def line(borrower, product):
    return credit_line_open(
        borrower=borrower, product=product, limit=Decimal("50000"), daily_rate=Decimal("0.0004"), reason="approved"
    )


@pytest.fixture
def loan(line) -> Loan:
    drawn = loan_drawdown(
        credit_line_id=line.pk, amount=Decimal("6000"), term_months=3, method="equal_installment", disburse=True
    )
    return Loan.objects.get(pk=drawn.pk)


@pytest.fixture
def in_review(make_borrower, partner):
    from underwriting.services import application_submit

    def submit():
        return application_submit(
            partner=partner,
            borrower=make_borrower("Wang Wu"),
            data=REVIEW_DATA,
            consent_at=datetime(2031, 1, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
            consent_scope="credit bureau query for this application",
        )

    return submit


def _close_to(day: date) -> None:
    """Open `day`: close every busy day, skip the quiet stretches to the next due date."""
    while (current := business_date_current()) < day:
        open_loans = [Loan.State.CURRENT, Loan.State.OVERDUE]
        busy = (
            Installment.objects.filter(
                loan__state__in=open_loans, state__in=[Installment.State.DUE, Installment.State.OVERDUE]
            ).exists()
            or Installment.objects.filter(
                loan__state__in=open_loans, state=Installment.State.SCHEDULED, due_date__lte=current
            ).exists()
        )
        if busy:
            days_close_until(until=current)
            continue
        next_due = (
            Installment.objects.filter(
                loan__state__in=open_loans, state=Installment.State.SCHEDULED, due_date__gt=current
            )
            .order_by("due_date")
            .values_list("due_date", flat=True)
            .first()
        )
        business_date_set(new_date=min(day, next_due or day), reason="quiet days skipped by the test")


@pytest.fixture
def book(start_date, product, partner, borrower, make_borrower, role_user, in_review):
    """A delinquent, insured loan with its collection case and filed claim; a repaid loan; an application in review.

    Short trigger (10 days past due) so the claim is filed after a few closes.
    """
    insurer = Insurer.objects.create(code="pingan", name="Ping An P&C")
    policy = Policy.objects.create(
        insurer=insurer,
        number="POL-1",
        effective_from=start_date,
        effective_to=start_date + timedelta(days=3 * 365),
        claim_trigger_dpd=10,
    )
    policy.products.set([product])
    policy_transition(policy_id=policy.pk, action="activate", reason="signed")
    collector = role_user(COLLECTORS_GROUP, username="li.collector")
    line = credit_line_open(
        borrower=borrower, product=product, limit=Decimal("50000"), daily_rate=Decimal("0.0004"), reason="approved"
    )
    delinquent = loan_drawdown(
        credit_line_id=line.pk, amount=Decimal("6000"), term_months=3, method="equal_installment", disburse=True
    )
    other_line = credit_line_open(
        borrower=make_borrower(),
        product=product,
        limit=Decimal("20000"),
        daily_rate=Decimal("0.0004"),
        reason="approved",
    )
    paying = loan_drawdown(
        credit_line_id=other_line.pk, amount=Decimal("3000"), term_months=3, method="equal_installment", disburse=True
    )
    repayment_post(loan_id=paying.pk, amount=Decimal("500.00"), source_reference="bank-1", idempotency_key="r-1")
    application = in_review()
    first_due = delinquent.installments.order_by("number").first().due_date
    _close_to(first_due + timedelta(days=12))
    return {
        "loan": Loan.objects.get(pk=delinquent.pk),
        "paying": Loan.objects.get(pk=paying.pk),
        "application": application,
        "policy": policy,
        "collector": collector,
    }
