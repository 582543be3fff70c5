"""Concurrent drawdowns and repayments on PostgreSQL: row locks keep the line within its limit and a
repeated idempotency key from paying twice.

Real threads, each with its own connection (closed at the end), committing
for real; SQLite serialises writers and would prove nothing here.
"""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from core.errors import DomainError
from lending.models import CreditLine, Loan, Repayment
from lending.services.loans import loan_drawdown
from lending.services.repayments import repayment_post

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

THREADS = 32
TRIES_PER_THREAD = 3
AMOUNT = Decimal("1000")
LIMIT = Decimal("20000")


def run_in_threads(count: int, work) -> list:
    """Run `work(index)` in `count` threads started together; return what each returned or raised."""
    start = threading.Barrier(count)
    outcomes: list = [None] * count

    def thread(index: int) -> None:
        try:
            start.wait(timeout=30)
            outcomes[index] = work(index)
        except Exception as error:  # reported to the test, which fails on it
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=thread, args=(index,)) for index in range(count)]
    for each in threads:
        each.start()
    for each in threads:
        each.join(timeout=120)
    assert not any(each.is_alive() for each in threads), "a thread is still running (deadlock?)"
    return outcomes


def test_concurrent_drawdowns_never_use_more_than_the_limit(make_line, borrower):
    line = make_line(borrower, limit=LIMIT)

    def draw(index: int) -> list:
        results = []
        for _ in range(TRIES_PER_THREAD):
            try:
                loan = loan_drawdown(credit_line_id=line.pk, amount=AMOUNT, term_months=3, method="equal_installment")
                results.append(loan.pk)
            except DomainError as error:
                results.append(error.code)
        return results

    outcomes = run_in_threads(THREADS, draw)

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    results = [result for outcome in outcomes for result in outcome]
    created = [result for result in results if isinstance(result, int)]
    refused = [result for result in results if not isinstance(result, int)]
    assert len(created) == int(LIMIT / AMOUNT) == 20
    assert set(refused) == {"exceeds_available_limit"}
    assert len(refused) == THREADS * TRIES_PER_THREAD - 20
    loans = Loan.objects.filter(credit_line=line)
    assert sorted(loans.values_list("pk", flat=True)) == sorted(created)
    used = CreditLine.objects.get(pk=line.pk).used
    assert used == sum(loans.values_list("principal", flat=True)) == LIMIT


def test_two_concurrent_repayments_with_the_same_key_are_recorded_once(loan, skip_to):
    skip_to(date(2031, 1, 25))

    def pay(index: int) -> int:
        return repayment_post(loan_id=loan.pk, amount=Decimal("500"), idempotency_key="bank-ref-1").pk

    outcomes = run_in_threads(2, pay)

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert Repayment.objects.filter(loan=loan).count() == 1
    assert outcomes[0] == outcomes[1] == Repayment.objects.get(loan=loan).pk
    assert Loan.objects.get(pk=loan.pk).principal_outstanding == Decimal("12000") - (Decimal("500") - Decimal("48.00"))
