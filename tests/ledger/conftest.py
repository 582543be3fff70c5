"""The ledger posts only on the open business date: every ledger test opens a known day first."""

from datetime import date

import pytest

from core.business_date import business_date_set

DAY = date(2031, 1, 30)


@pytest.fixture(autouse=True)
def open_day(db) -> date:
    return business_date_set(new_date=DAY, reason="ledger test set-up")
