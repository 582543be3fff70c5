"""The close of day fanned out to a real Celery worker (Redis broker, PostgreSQL) ends exactly like
the same close run in-process."""

import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import transaction
from django.db.models import Count

import core.close
import lending.close
from config.celery import QUEUES
from core.close import day_close
from ledger.models import JournalEntry
from ledger.selectors import account_balances
from lending.models import Installment, Loan
from lending.services.repayments import repayment_post

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

FIRST_DUE = date(2031, 2, 15)


@pytest.fixture
def worker(workers):
    """A real worker on every queue, on the test database; stopped afterwards."""
    return workers.start("worker", ",".join(QUEUES), visibility_seconds=3600)


class Rollback(Exception):
    pass


@pytest.fixture
def book(make_borrower, make_line, make_loan, skip_to):
    """Six loans whose first installments fall due on FIRST_DUE: one paid, one short-paid, four unpaid."""

    def build() -> list[Loan]:
        loans = [
            make_loan(make_line(make_borrower()), Decimal(amount), term_months=term, method=method)
            for amount, term, method in [
                ("12000", 12, "equal_installment"),
                ("9000", 6, "equal_principal"),
                ("5000", 3, "interest_first"),
                ("20000", 12, "equal_principal"),
                ("3000", 3, "equal_installment"),
                ("7500", 6, "interest_first"),
            ]
        ]
        skip_to(FIRST_DUE)
        first = Installment.objects.get(loan=loans[0], number=1)
        repayment_post(loan_id=loans[0].pk, amount=first.principal + first.interest)
        repayment_post(loan_id=loans[1].pk, amount=Decimal("700"))
        return loans

    return build


class ChunkCounts:
    """A Progress that keeps the last chunk count reported per day."""

    def __init__(self):
        self.day, self.last = None, {}

    def step_started(self, business_date, step):
        self.day = business_date

    def step_finished(self, business_date, step, *, skipped, detail):
        pass

    def chunk_done(self, step, done, total):
        self.last[self.day] = (done, total)

    def day_finished(self, closed_date, open_date):
        pass


def close_two_days(progress=None) -> None:
    day_close(business_date=FIRST_DUE, progress=progress)
    day_close(business_date=FIRST_DUE + timedelta(days=1), progress=progress)


def book_state(loans, loan_snapshot) -> dict:
    return {
        "loans": [loan_snapshot(loan) for loan in loans],
        "ledger": account_balances(),
        "entries_per_day": dict(
            JournalEntry.objects.values_list("business_date").annotate(n=Count("id")).order_by("business_date")
        ),
    }


def test_a_close_fanned_out_to_a_celery_worker_ends_like_the_close_in_process(book, loan_snapshot, worker, monkeypatch):
    monkeypatch.setattr(lending.close, "CHUNK", 2)
    # The same book closed in this process (eagerly), then rolled back.
    with pytest.raises(Rollback):
        with transaction.atomic():
            with monkeypatch.context() as eager:
                eager.setattr(settings, "CELERY_TASK_ALWAYS_EAGER", True)
                loans = book()
                close_two_days()
                in_process = book_state(loans, loan_snapshot)
            raise Rollback
    assert len(in_process["loans"]) == 6

    loans = book()  # committed, so the worker sees it

    def not_here(**kwargs):
        raise AssertionError("a chunk ran in the test process instead of the worker")

    monkeypatch.setitem(core.close._chunk_handlers, "lending.accrue", not_here)
    progress = ChunkCounts()
    started = time.monotonic()
    close_two_days(progress)

    assert time.monotonic() - started < 60
    assert worker.poll() is None
    assert progress.last == {FIRST_DUE: (3, 3), FIRST_DUE + timedelta(days=1): (3, 3)}
    assert book_state(loans, loan_snapshot) == in_process
