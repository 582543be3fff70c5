"""Concurrent callbacks for one instruction on PostgreSQL: the instruction's row lock gives exactly one effect.

Real threads, each with its own connection (closed at the end), committing for real.
"""

import threading
from collections import Counter

import pytest
from django.db import connection

from ledger.models import JournalEntry
from lending.models import Loan
from payments.gateways.base import CONFIRMED, FAILED, Report
from payments.models import CallbackLog, Disbursement
from payments.services.reports import report_apply

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

THREADS = 8


def run_in_threads(count: int, work) -> list:
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


@pytest.fixture
def waiting(world, gateway_rates):
    gateway_rates(delay_rate=1.0)
    return Disbursement.objects.get(loan_id=world.draw().json()["id"])


def test_the_same_confirmation_from_many_threads_disburses_once(waiting):
    report = Report(waiting.reference, CONFIRMED, waiting.amount, "GW-1")
    outcomes = run_in_threads(
        THREADS, lambda index: report_apply(gateway_code="simulated", report=report, source="callback").outcome
    )
    assert Counter(outcomes) == {"applied": 1, "duplicate": THREADS - 1}
    assert JournalEntry.objects.filter(kind="disbursement").count() == 1
    assert Loan.objects.get(pk=waiting.loan_id).state == Loan.State.CURRENT


def test_racing_confirmations_and_failures_leave_one_consistent_outcome(waiting):
    def send(index: int) -> str:
        status = CONFIRMED if index % 2 else FAILED
        report = Report(waiting.reference, status, waiting.amount, f"GW-{index}")
        return report_apply(gateway_code="simulated", report=report, source="callback").outcome

    outcomes = run_in_threads(THREADS, send)
    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert outcomes.count("applied") == 1
    waiting.refresh_from_db()
    loan = Loan.objects.get(pk=waiting.loan_id)
    disbursed = JournalEntry.objects.filter(kind="disbursement").count()
    if waiting.state == Disbursement.State.CONFIRMED:
        assert (loan.state, disbursed) == (Loan.State.CURRENT, 1)
    else:
        assert (loan.state, disbursed) == (Loan.State.CANCELLED, 0)
    assert CallbackLog.objects.filter(source="callback").count() == THREADS
