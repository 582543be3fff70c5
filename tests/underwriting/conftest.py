"""Fixtures for the underwriting tests: a partner, the demo product, borrowers of a chosen age, application data.

Everything starts on the business date `START`. Model artifacts go to a
temporary folder per test.
"""

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from stdnum.cn import ric

from core.business_date import business_date_set
from lending.models import Partner, Product
from lending.services.borrowers import borrower_onboard_person

START = date(2031, 1, 15)
CONSENT_AT = datetime(2031, 1, 15, 9, 30, tzinfo=UTC)

_ids = itertools.count(1)


def national_id(serial: int, born: date) -> str:
    first_17 = f"110101{born:%Y%m%d}{serial % 1000:03d}"
    return first_17 + ric.calc_check_digit(first_17 + "0")


@pytest.fixture(autouse=True)
def model_dir(settings, tmp_path):
    settings.UNDERWRITING_MODEL_DIR = tmp_path / "models"
    return settings.UNDERWRITING_MODEL_DIR


@pytest.fixture
def start_date(db) -> date:
    return business_date_set(new_date=START, reason="underwriting test set-up")


@pytest.fixture
def partner(db) -> Partner:
    return Partner.objects.create(code="acme", name="Acme Finance")


@pytest.fixture
def other_partner(db) -> Partner:
    return Partner.objects.create(code="globex", name="Globex Channel")


@pytest.fixture
def product(db) -> Product:
    return Product.objects.get(code="revolving-cash-line")


@pytest.fixture
def make_borrower(partner, start_date):
    def make(*, born: date = date(1990, 1, 1), via: Partner | None = None):
        serial = next(_ids)
        return borrower_onboard_person(
            partner=via or partner,
            name=f"Applicant {serial}",
            national_id=national_id(serial, born),
            mobile=f"1391234{serial % 10000:04d}",
            monthly_income=Decimal("12000"),
            today=start_date,
        )

    return make


@pytest.fixture
def borrower(make_borrower):
    return make_borrower()


@pytest.fixture
def good_data() -> dict:
    """A solid applicant: the built-in scorecard puts them in band A."""
    return {
        "credit_score": 760,
        "monthly_income": "12000.00",
        "monthly_inflow": "15000.00",
        "monthly_outflow": "9000.00",
        "months_on_platform": 48,
        "existing_debt": "5000.00",
        "monthly_obligations": "1000.00",
        "other_lenders": 0,
        "identity_verified": True,
        "device_verified": True,
        "device_id": "dev-good",
    }


@pytest.fixture
def submit(partner):
    from underwriting.services import application_submit

    def run(borrower, data, **kwargs):
        kwargs.setdefault("consent_at", CONSENT_AT)
        kwargs.setdefault("consent_scope", "credit bureau query for this application")
        return application_submit(partner=kwargs.pop("partner", partner), borrower=borrower, data=data, **kwargs)

    return run
