"""Without a broker on PostgreSQL, close chunks run on several threads, each with its own connection,
and the book ends exactly as when they run one after the other."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Count

import core.close
import lending.close
from core.close import day_close
from ledger.models import JournalEntry
from ledger.selectors import account_balances
from ledger.verification import ledger_problems
from lending.models import Installment, Loan
from lending.services.repayments import repayment_post

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

FIRST_DUE = date(2031, 2, 15)


@pytest.fixture
def book(make_borrower, make_line, make_loan, skip_to):
    """Eight loans falling due on FIRST_DUE: one paid, one short-paid, the rest unpaid; 45 days later all
    unpaid ones are deep in delinquency (penalty, buckets, freezes)."""

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
                ("4000", 6, "equal_installment"),
                ("16000", 12, "equal_principal"),
            ]
        ]
        skip_to(FIRST_DUE)
        first = Installment.objects.get(loan=loans[0], number=1)
        repayment_post(loan_id=loans[0].pk, amount=first.principal + first.interest)
        repayment_post(loan_id=loans[1].pk, amount=Decimal("700"))
        return loans

    return build


def close_days(count: int) -> None:
    for offset in range(count):
        day_close(business_date=FIRST_DUE + timedelta(days=offset))


def book_state(loans, loan_snapshot) -> dict:
    return {
        "loans": [loan_snapshot(loan) for loan in loans],
        "ledger": account_balances(),
        "entries_per_day": dict(
            JournalEntry.objects.values_list("business_date").annotate(n=Count("id")).order_by("business_date")
        ),
    }


class Rollback(Exception):
    pass


def test_chunks_on_threads_end_like_chunks_one_after_the_other(book, loan_snapshot, settings, monkeypatch):
    settings.CLOSE_CHUNK_THREADS = 3
    monkeypatch.setattr(lending.close, "CHUNK", 2)
    accrue_chunk, threads_seen = lending.close.accrue_chunk, set()

    def recording(*, business_date, ids):
        threads_seen.add(threading.current_thread().name)
        return accrue_chunk(business_date=business_date, ids=ids)

    monkeypatch.setitem(core.close._chunk_handlers, "lending.accrue", recording)
    # Inside a transaction the chunks cannot go to other connections: they run here, one by one.
    with pytest.raises(Rollback):
        with transaction.atomic():
            loans = book()
            close_days(3)
            one_by_one = book_state(loans, loan_snapshot)
            raise Rollback
    assert threads_seen == {threading.current_thread().name}
    assert len(one_by_one["entries_per_day"]) == 4

    threads_seen.clear()
    loans = book()  # committed, so the threads' connections see it
    close_days(3)

    assert len(threads_seen) > 1 and all(name.startswith("close-chunk") for name in threads_seen)
    assert book_state(loans, loan_snapshot) == one_by_one
    assert list(ledger_problems()) == []
