"""Fixtures for the partner API tests: two partners with keys, and a borrower, line and loan under each.

Objects are made through the lending services (as the lending tests do);
requests go through DRF's test client with a bearer key.
"""

import itertools
from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from stdnum.cn import ric

from core.business_date import business_date_set
from lending.models import Partner, Product
from lending.services.borrowers import borrower_onboard_person
from lending.services.credit_lines import credit_line_open
from lending.services.loans import loan_drawdown
from partners.services import api_key_cache_clear, api_key_issue

START = date(2031, 1, 15)
_serials = itertools.count(500)


def national_id(serial: int) -> str:
    first_17 = f"11010119900101{serial % 1000:03d}"
    return first_17 + ric.calc_check_digit(first_17 + "0")


@pytest.fixture(autouse=True)
def _fresh_rate_counters_and_keys():
    cache.clear()
    api_key_cache_clear()


@pytest.fixture
def start_date(db) -> date:
    return business_date_set(new_date=START, reason="partner API test set-up")


@pytest.fixture
def product(db) -> Product:
    return Product.objects.get(code="revolving-cash-line")


class World:
    """One partner's keyed client and the borrower, line and loan under it."""

    def __init__(self, partner: Partner, key: str, product: Product):
        self.partner, self.key = partner, key
        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        serial = next(_serials)
        self.borrower = borrower_onboard_person(
            partner=partner, name="Zhang San", national_id=national_id(serial), mobile=f"1381234{serial:04d}",
            monthly_income=Decimal("12000"), today=START,
        )  # fmt: skip
        self.line = credit_line_open(
            borrower=self.borrower, product=product, limit=Decimal("50000"), daily_rate=Decimal("0.0004"),
            reason="approved",
        )  # fmt: skip
        self.loan = loan_drawdown(
            credit_line_id=self.line.pk, amount=Decimal("12000"), term_months=12, method="equal_installment",
            disburse=True,
        )  # fmt: skip


def _world(code: str, product: Product) -> World:
    partner = Partner.objects.create(code=code, name=code.title())
    _, key = api_key_issue(partner=partner)
    return World(partner, key, product)


@pytest.fixture
def acme(start_date, product) -> World:
    return _world("acme", product)


@pytest.fixture
def globex(start_date, product) -> World:
    return _world("globex", product)


@pytest.fixture
def post():
    """POST JSON with a fresh Idempotency-Key unless one is given."""
    keys = itertools.count(1)

    def send(client: APIClient, path: str, body, *, key: str | None = None, **headers):
        if key is None:
            key = f"test-key-{next(keys)}"
        if key:
            headers["HTTP_IDEMPOTENCY_KEY"] = key
        return client.post(path, body, format="json", **headers)

    return send


@pytest.fixture
def make_other_line(product):
    """A second line for the world's borrower's partner (another borrower of the same partner)."""

    def make(world: World):
        serial = next(_serials)
        borrower = borrower_onboard_person(
            partner=world.partner, name="Li Si", national_id=national_id(serial), mobile=f"1381234{serial:04d}",
            monthly_income=None, today=START,
        )  # fmt: skip
        return credit_line_open(
            borrower=borrower, product=product, limit=Decimal("20000"), daily_rate=Decimal("0.0004"), reason="approved"
        )

    return make


@pytest.fixture
def person():
    """A valid person body for POST /borrowers, a different person for each serial."""

    def make(serial: int) -> dict:
        number = 900 + serial
        return {"kind": "person", "name": "王五", "national_id": national_id(number), "mobile": f"1390000{number:04d}"}

    return make
