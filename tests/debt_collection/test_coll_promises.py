"""Promises to pay: kept or broken by the close at the promised date, and the case moves with them."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core.close import day_close
from core.errors import DomainError
from debt_collection.models import CollectionCase, PromiseToPay
from debt_collection.services import contact_attempt_log, promise_to_pay_record
from lending.services.repayments import repayment_post

PROMISED_ON = date(2031, 2, 17)
DUE = date(2031, 2, 20)
AMOUNT = Decimal("500.00")


@pytest.fixture
def promise(loan, collector, close_to, case_of):
    close_to(PROMISED_ON)
    case = case_of(loan)
    contact_attempt_log(
        case_id=case.pk,
        collector=collector,
        channel="call",
        outcome="promise",
        attempted_at=datetime(2025, 6, 17, 10, tzinfo=ZoneInfo("Asia/Shanghai")),
        promise_amount=AMOUNT,
        promise_date=DUE,
    )
    promise = PromiseToPay.objects.get()
    assert promise.case.state == CollectionCase.State.PROMISED
    return promise


def settle_through(day: date, close_to) -> None:
    close_to(day)
    day_close(business_date=day)


def test_a_payment_on_the_promised_date_keeps_the_promise(promise, loan, close_to):
    close_to(DUE)
    repayment_post(loan_id=loan.pk, amount=AMOUNT)
    day_close(business_date=DUE)

    promise.refresh_from_db()
    assert (promise.state, promise.paid, promise.settled_on) == (PromiseToPay.State.KEPT, AMOUNT, DUE)
    assert promise.case.state == CollectionCase.State.ASSIGNED


def test_the_promise_stays_pending_until_its_date(promise, close_to):
    settle_through(date(2031, 2, 19), close_to)
    promise.refresh_from_db()
    assert promise.state == PromiseToPay.State.PENDING


def test_no_payment_by_the_date_breaks_the_promise_at_the_close_of_that_date(promise, close_to):
    settle_through(DUE, close_to)
    promise.refresh_from_db()
    assert (promise.state, promise.settled_on) == (PromiseToPay.State.BROKEN, DUE)
    assert promise.case.state == CollectionCase.State.BROKEN


def test_a_payment_the_day_after_is_too_late(promise, loan, close_to):
    settle_through(DUE, close_to)
    repayment_post(loan_id=loan.pk, amount=AMOUNT)
    day_close(business_date=date(2031, 2, 21))
    promise.refresh_from_db()
    assert promise.state == PromiseToPay.State.BROKEN


def test_a_partial_payment_breaks_the_promise(promise, loan, close_to):
    close_to(date(2031, 2, 18))
    repayment_post(loan_id=loan.pk, amount=AMOUNT - Decimal("0.01"))
    settle_through(DUE, close_to)
    promise.refresh_from_db()
    assert (promise.state, promise.paid) == (PromiseToPay.State.BROKEN, AMOUNT - Decimal("0.01"))


def test_an_early_payment_keeps_the_promise_at_that_days_close(promise, loan, close_to):
    close_to(date(2031, 2, 18))
    repayment_post(loan_id=loan.pk, amount=AMOUNT)
    day_close(business_date=date(2031, 2, 18))
    promise.refresh_from_db()
    assert (promise.state, promise.settled_on) == (PromiseToPay.State.KEPT, date(2031, 2, 18))


def test_a_broken_promise_can_be_followed_by_a_new_one(promise, collector, close_to):
    settle_through(DUE, close_to)
    new = promise_to_pay_record(case_id=promise.case_id, collector=collector, amount="300", due_date=date(2031, 2, 25))
    assert new.case.state == CollectionCase.State.PROMISED


def test_a_second_pending_promise_is_refused(promise, collector):
    with pytest.raises(DomainError) as refused:
        promise_to_pay_record(case_id=promise.case_id, collector=collector, amount="300", due_date=DUE)
    assert refused.value.code == "promise_pending"
    assert PromiseToPay.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "due_date", "code", "field"),
    [
        ("0", DUE, "amount_not_positive", "promise_amount"),
        ("1.001", DUE, "amount_too_precise", "promise_amount"),
        ("abc", DUE, "invalid_amount", "promise_amount"),
        ("100", date(2031, 2, 16), "promise_date_out_of_range", "promise_date"),
        ("100", date(2031, 3, 20), "promise_date_out_of_range", "promise_date"),
        ("100", None, "required", "promise_date"),
    ],
)
def test_bad_promises_are_refused_with_the_field(loan, collector, close_to, case_of, amount, due_date, code, field):
    close_to(PROMISED_ON)
    case = case_of(loan)
    with pytest.raises(DomainError) as refused:
        promise_to_pay_record(case_id=case.pk, collector=collector, amount=amount, due_date=due_date)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert not PromiseToPay.objects.exists()
    case.refresh_from_db()
    assert case.state == CollectionCase.State.ASSIGNED
