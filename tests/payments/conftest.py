"""Fixtures for the money-movement tests: a partner with a key, a borrower with a line, the simulated gateway.

Objects are made through the services; the simulated gateway's rates are set
per test through Django settings (the embedded default confirms everything).
"""

import itertools
import json
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient
from stdnum.cn import ric

from core.business_date import business_date_set
from lending.models import Partner, Product
from lending.services.borrowers import borrower_onboard_person
from lending.services.credit_lines import credit_line_open
from partners.services import api_key_cache_clear, api_key_issue
from payments.gateways.base import SIGNATURE_HEADER
from payments.gateways.base import signature as sign
from payments.services.accounts import payment_account_add

START = date(2031, 3, 10)
CARD = "6222021234567890128"  # passes Luhn
CARD_2 = "6217001234567890122"
_serials = itertools.count(700)


def national_id(serial: int) -> str:
    first_17 = f"11010119850101{serial % 1000:03d}"
    return first_17 + ric.calc_check_digit(first_17 + "0")


@pytest.fixture(autouse=True)
def _fresh_caches():
    cache.clear()
    api_key_cache_clear()


@pytest.fixture
def gateway_rates(settings):
    def set_rates(*, failure_rate=0.0, delay_rate=0.0):
        settings.PAYMENTS_SIMULATED = {**settings.PAYMENTS_SIMULATED, "failure_rate": failure_rate,
                                       "delay_rate": delay_rate}  # fmt: skip

    return set_rates


class World:
    def __init__(self, code: str):
        self.partner = Partner.objects.create(code=code, name=code.title())
        _, self.key = api_key_issue(partner=self.partner)
        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.key}")
        serial = next(_serials)
        self.borrower = borrower_onboard_person(
            partner=self.partner, name="Li Si", national_id=national_id(serial), mobile=f"1391234{serial:04d}",
            monthly_income=Decimal("15000"), today=START,
        )  # fmt: skip
        self.line = credit_line_open(
            borrower=self.borrower, product=Product.objects.get(code="revolving-cash-line"), limit=Decimal("50000"),
            daily_rate=Decimal("0.0004"), reason="approved",
        )  # fmt: skip
        self._keys = itertools.count(1)

    def post(self, path: str, body, *, key: str | None = None):
        key = key or f"{self.partner.code}-key-{next(self._keys)}"
        return self.client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)

    def draw(self, amount="10000", **extra):
        return self.post(
            f"/api/v1/credit-lines/{self.line.pk}/drawdowns",
            {"amount": amount, "term_months": 12, "method": "equal_installment", **extra},
        )

    def card(self, number=CARD, **options):
        return payment_account_add(
            borrower_id=self.borrower.pk, kind="bank_card", bank="ICBC", number=number, holder_name="Li Si", **options
        )


@pytest.fixture
def world(db) -> World:
    business_date_set(new_date=START, reason="payments test set-up")
    return World("acme")


@pytest.fixture
def other(world) -> World:
    return World("globex")


@pytest.fixture
def signed_callback(client):
    """POST a callback signed as the simulated gateway would (or with a given signature)."""

    def send(report: dict | None = None, *, gateway="simulated", signature=None, raw: bytes | None = None):
        body = json.dumps(report).encode() if raw is None else raw
        good = sign(settings.PAYMENTS_SIMULATED["secret"], body)
        headers = {f"HTTP_{SIGNATURE_HEADER.upper().replace('-', '_')}": good if signature is None else signature}
        return client.post(f"/api/v1/payments/callbacks/{gateway}", body, content_type="application/json", **headers)

    return send


@pytest.fixture
def report_of():
    """The JSON a gateway sends about an instruction."""

    def build(instruction, status="confirmed", **extra) -> dict:
        return {"reference": instruction.reference, "status": status, "amount": f"{instruction.amount:.2f}",
                "gateway_reference": f"GW-{instruction.reference}", **extra}  # fmt: skip

    return build
