"""Fixtures for the business date and the close-of-day runner."""

from datetime import date

import pytest

from core import close
from core.business_date import business_date_set

# A month end, so closing a few days crosses into the next month.
OPEN_DATE = date(2031, 1, 30)


@pytest.fixture
def open_date(db) -> date:
    """The business date, moved to a known day before anything is closed."""
    return business_date_set(new_date=OPEN_DATE, reason="test set-up")


@pytest.fixture
def close_registry(monkeypatch) -> dict[str, close.CloseStep]:
    """A fresh step registry holding only the real ledger seal step; tests add their own steps.

    Steps that other apps register (and any a test adds) never leak into another test.
    """
    registry = {"ledger.seal_day": close._registry["ledger.seal_day"]}
    monkeypatch.setattr(close, "_registry", registry)
    return registry
