"""The stored business date: how it is read, held for writes, and moved by hand."""

from datetime import date, timedelta

import pytest
from django.db import transaction

from core import close
from core.business_date import (
    business_date_advance,
    business_date_current,
    business_date_for_write,
    business_date_lock_for_close,
    business_date_set,
)
from core.close import day_close
from core.errors import DomainError
from core.models import BusinessCalendar

pytestmark = pytest.mark.django_db


def _stored_date() -> date:
    return BusinessCalendar.objects.get(pk=BusinessCalendar.SINGLETON_ID).current_date


def test_business_date_current_reads_the_stored_row_not_the_clock():
    BusinessCalendar.objects.filter(pk=BusinessCalendar.SINGLETON_ID).update(current_date=date(2040, 2, 29))

    assert business_date_current() == date(2040, 2, 29)


def test_business_date_for_write_returns_the_open_date_inside_a_transaction(open_date):
    with transaction.atomic():
        assert business_date_for_write() == open_date


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_business_date_for_write_refuses_outside_a_transaction():
    with pytest.raises(RuntimeError, match="inside transaction.atomic"):
        business_date_for_write()


def test_business_date_set_moves_the_date_and_records_the_reason_in_history(open_date):
    business_date_set(new_date=open_date + timedelta(days=3), reason="demo: skip to the weekend")

    assert business_date_current() == open_date + timedelta(days=3)
    latest = BusinessCalendar.history.latest()
    assert latest.current_date == open_date + timedelta(days=3)
    assert latest.history_change_reason == "demo: skip to the weekend"
    assert latest.history_type == "~"


def test_business_date_set_requires_a_reason(open_date):
    with pytest.raises(DomainError) as refused:
        business_date_set(new_date=open_date + timedelta(days=1), reason="")

    assert refused.value.code == "reason_required"
    assert _stored_date() == open_date


def test_business_date_set_refuses_a_reason_longer_than_the_history_column_on_every_database(open_date):
    business_date_set(new_date=open_date + timedelta(days=1), reason="r" * 100)

    with pytest.raises(DomainError) as refused:
        business_date_set(new_date=open_date + timedelta(days=2), reason="r" * 101)

    assert refused.value.code == "reason_too_long"
    assert _stored_date() == open_date + timedelta(days=1)


@pytest.mark.parametrize("days_from_closed", [0, -1, -30])
def test_business_date_set_refuses_a_date_on_or_before_a_closed_day(open_date, close_registry, days_from_closed):
    day_close(business_date=open_date)
    history_rows = BusinessCalendar.history.count()

    with pytest.raises(DomainError) as refused:
        business_date_set(new_date=open_date + timedelta(days=days_from_closed), reason="reopen")

    assert refused.value.code == "business_date_closed"
    assert refused.value.field == "new_date"
    assert _stored_date() == open_date + timedelta(days=1)
    assert BusinessCalendar.history.count() == history_rows


def test_business_date_set_allows_a_date_after_the_last_closed_day(open_date, close_registry):
    day_close(business_date=open_date)

    business_date_set(new_date=open_date + timedelta(days=5), reason="catch up by hand")

    assert business_date_current() == open_date + timedelta(days=5)


def test_business_date_advance_refuses_when_the_date_has_moved_since_the_close_began(open_date):
    with transaction.atomic():
        calendar = business_date_lock_for_close()
        with pytest.raises(DomainError) as refused:
            business_date_advance(calendar=calendar, closed_date=open_date - timedelta(days=1))

    assert refused.value.code == "business_date_moved"
    assert _stored_date() == open_date


def test_business_date_advance_opens_the_next_day_and_says_why_in_history(open_date):
    with transaction.atomic():
        calendar = business_date_lock_for_close()
        opened = business_date_advance(calendar=calendar, closed_date=open_date)

    assert opened == open_date + timedelta(days=1) == _stored_date()
    assert BusinessCalendar.history.latest().history_change_reason == f"close of day {open_date.isoformat()}"


def test_business_date_set_refuses_to_jump_over_a_day_whose_close_has_started(open_date, close_registry):
    def crash(*, business_date, progress):
        raise RuntimeError("crash in the middle of the close")

    close_registry["test.crash"] = close.CloseStep(name="test.crash", order=1, run=crash)
    with pytest.raises(RuntimeError):
        day_close(business_date=open_date)

    with pytest.raises(DomainError) as refused:
        business_date_set(new_date=open_date + timedelta(days=5), reason="skip the half-closed day")

    assert refused.value.code == "close_in_progress"
    assert business_date_current() == open_date
