"""Beat's hourly promise check: a promise the debtor has paid is kept during the day; none is broken before
the close of its date."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from debt_collection.models import CollectionCase, PromiseToPay
from debt_collection.services import contact_attempt_log
from debt_collection.tasks import promises_check_task
from lending.services.repayments import repayment_post

DUE = date(2031, 2, 20)
AMOUNT = Decimal("500.00")


@pytest.fixture
def promise(loan, collector, close_to, case_of):
    close_to(date(2031, 2, 17))
    contact_attempt_log(
        case_id=case_of(loan).pk, collector=collector, channel="call", outcome="promise",
        attempted_at=datetime(2025, 6, 17, 10, tzinfo=ZoneInfo("Asia/Shanghai")), promise_amount=AMOUNT,
        promise_date=DUE,
    )  # fmt: skip
    return PromiseToPay.objects.get()


def test_a_paid_promise_is_kept_by_the_check_before_the_close(promise, loan, close_to):
    close_to(date(2031, 2, 18))
    repayment_post(loan_id=loan.pk, amount=AMOUNT)

    assert promises_check_task.delay().get() == {"kept": 1, "broken": 0}
    promise.refresh_from_db()
    assert (promise.state, promise.paid, promise.settled_on) == (PromiseToPay.State.KEPT, AMOUNT, date(2031, 2, 18))
    assert promise.case.state == CollectionCase.State.ASSIGNED
    assert promises_check_task.delay().get() == {"kept": 0, "broken": 0}


def test_an_unpaid_promise_on_its_date_is_left_for_the_close_to_break(promise, close_to):
    close_to(DUE)
    assert promises_check_task.delay().get() == {"kept": 0, "broken": 0}
    promise.refresh_from_db()
    assert promise.state == PromiseToPay.State.PENDING
