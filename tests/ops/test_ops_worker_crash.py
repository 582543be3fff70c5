"""Workers killed with SIGKILL mid-task (Redis broker, PostgreSQL): the work is redone by a new worker and
nothing is lost or done twice.

- A close-of-day chunk: the test holds a row lock on an installment that the
  chunk updates after posting its journal entries, so the worker is caught
  with the chunk's writes made and not committed; it is killed there. A new
  worker redoes the chunk and the book ends identical to an uninterrupted close.
- A webhook delivery: the partner's receiver (a local HTTP server) holds the
  first request open; the worker is killed while it waits for the answer. A
  new worker sends the event again: delivered at least once, recorded once.
"""

import http.server
import json
import threading
import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Count
from stdnum.cn import ric

import lending.close
from core.business_date import business_date_set
from core.close import day_close
from ledger.models import JournalEntry
from ledger.selectors import account_balances
from lending.models import Installment, Loan, Partner, Product
from lending.services.borrowers import borrower_onboard_person
from lending.services.credit_lines import credit_line_open
from lending.services.loans import loan_drawdown
from lending.services.repayments import repayment_post
from partners.models import WebhookAttempt, WebhookEvent
from partners.services import webhook_endpoint_set

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

START = date(2031, 1, 15)
FIRST_DUE = date(2031, 2, 15)
WAIT_SECONDS = 60


class Rollback(Exception):
    pass


def eventually(check, what: str, seconds: float = WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while not (result := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)
    return result


def onboard(partner: Partner, serial: int):
    first_17 = f"11010119900101{serial:03d}"
    borrower = borrower_onboard_person(
        partner=partner, name=f"Ops {serial}", national_id=first_17 + ric.calc_check_digit(first_17 + "0"),
        mobile=f"1381234{serial:04d}", monthly_income=Decimal("12000"), today=START,
    )  # fmt: skip
    return credit_line_open(
        borrower=borrower, product=Product.objects.get(code="revolving-cash-line"), limit=Decimal("50000"),
        daily_rate=Decimal("0.0004"), reason="approved",
    )  # fmt: skip


def build_book() -> list[Loan]:
    """Six loans falling due on FIRST_DUE: one paid, one short-paid, four unpaid (chunks of two)."""
    business_date_set(new_date=START, reason="ops test set-up")
    partner = Partner.objects.create(code="ops", name="Ops")
    terms = [
        ("12000", 12, "equal_installment"), ("9000", 6, "equal_principal"), ("5000", 3, "interest_first"),
        ("20000", 12, "equal_principal"), ("3000", 3, "equal_installment"), ("7500", 6, "interest_first"),
    ]  # fmt: skip
    loans = [
        loan_drawdown(credit_line_id=onboard(partner, serial).pk, amount=Decimal(amount), term_months=term,
                      method=method, disburse=True)
        for serial, (amount, term, method) in enumerate(terms, start=1)
    ]  # fmt: skip
    business_date_set(new_date=FIRST_DUE, reason="nothing happens before the first due date")
    first = Installment.objects.get(loan=loans[0], number=1)
    repayment_post(loan_id=loans[0].pk, amount=first.principal + first.interest)
    repayment_post(loan_id=loans[1].pk, amount=Decimal("700"))
    return loans


def book_state(loans: list[Loan]) -> dict:
    def loan_state(loan_id: int) -> dict:
        loan = Loan.objects.get(pk=loan_id)
        return {
            "state": loan.state,
            "principal": loan.principal_outstanding,
            "interest": loan.interest_outstanding,
            "penalty": loan.penalty_outstanding,
            "delinquency": (loan.overdue_since, loan.dpd_bucket, loan.is_npl),
            "installments": list(loan.installments.order_by("number").values_list("number", "state")),
            "ledger": {code: balance for code, balance in account_balances(loan_id=loan_id).items() if balance},
        }

    return {
        "loans": [loan_state(loan.pk) for loan in loans],
        "ledger": account_balances(),
        "entries_per_day": dict(
            JournalEntry.objects.values_list("business_date").annotate(n=Count("id")).order_by("business_date")
        ),
    }


def close_two_days() -> None:
    day_close(business_date=FIRST_DUE)
    day_close(business_date=FIRST_DUE + timedelta(days=1))


def in_thread(function) -> tuple[threading.Thread, list]:
    """Run `function` on a thread with its own database connection; the list gets its error, if any."""
    errors = []

    def run():
        try:
            function()
        except BaseException as error:  # noqa: B036 - reported to the test thread
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def test_a_worker_killed_mid_chunk_leaves_the_chunk_to_a_new_worker_and_the_book_ends_as_uninterrupted(
    workers, monkeypatch
):
    monkeypatch.setattr(lending.close, "CHUNK", 2)
    with pytest.raises(Rollback):
        with transaction.atomic():
            with monkeypatch.context() as eager:
                eager.setattr(settings, "CELERY_TASK_ALWAYS_EAGER", True)
                same_loans = build_book()
                close_two_days()
                uninterrupted = book_state(same_loans)
            raise Rollback

    loans = build_book()
    blocked = Installment.objects.get(loan=loans[2], number=1)  # in the second chunk, falls due unpaid
    workers.start("doomed", "close_of_day")
    with psycopg.connect(workers.database_url().replace("postgres://", "postgresql://"), autocommit=False) as holder:
        holder.execute("SELECT 1 FROM lending_installment WHERE id = %s FOR UPDATE", [blocked.pk])
        closing, errors = in_thread(close_two_days)

        def chunk_waiting_on_the_lock():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    " AND query LIKE 'UPDATE \"lending_installment\"%%'"
                )
                return cursor.fetchone()

        (backend,) = eventually(chunk_waiting_on_the_lock, "the chunk to reach the locked installment")
        entries_before_kill = JournalEntry.objects.filter(business_date=FIRST_DUE).count()
        workers.kill("doomed")
        # Blocked on the lock, the orphaned backend notices its client is gone only once it runs on.
        holder.rollback()

    def backend_gone():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [backend])
            return cursor.fetchone()[0] == 0

    eventually(backend_gone, "PostgreSQL to roll the killed chunk back")
    # The first chunk committed before the kill, the killed one did not.
    assert 0 < entries_before_kill < uninterrupted["entries_per_day"][FIRST_DUE]
    workers.start("replacement", "close_of_day")
    closing.join(timeout=WAIT_SECONDS * 2)
    assert not closing.is_alive(), "the close did not finish after the replacement worker started"
    assert not errors, errors
    assert book_state(loans) == uninterrupted


class Receiver(http.server.ThreadingHTTPServer):
    """A partner's webhook endpoint: records every request; holds the first one open until released."""

    daemon_threads = True

    def __init__(self):
        self.received: list[int] = []
        self.first_arrived, self.release = threading.Event(), threading.Event()
        super().__init__(("127.0.0.1", 0), ReceiverHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks"


class ReceiverHandler(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append(body["id"])
        if not self.server.first_arrived.is_set():
            self.server.first_arrived.set()
            self.server.release.wait(WAIT_SECONDS)
        try:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the worker that sent the held request was killed meanwhile

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def test_a_worker_killed_mid_delivery_leaves_the_webhook_to_a_new_worker_delivered_and_recorded_once(workers, receiver):
    business_date_set(new_date=START, reason="ops test set-up")
    partner = Partner.objects.create(code="ops", name="Ops")
    webhook_endpoint_set(partner=partner, url=receiver.url)
    lines = [onboard(partner, serial) for serial in (1, 2, 3)]
    loans = [
        loan_drawdown(
            credit_line_id=line.pk, amount=Decimal("1000"), term_months=3, method="equal_installment", disburse=True
        )
        for line in lines
    ]
    events = list(WebhookEvent.objects.filter(partner=partner).values_list("pk", flat=True))
    assert set(WebhookEvent.objects.filter(pk__in=events).values_list("type", flat=True)) >= {"loan.disbursed"}
    assert len(events) >= len(loans)
    # The queued deliveries start; the partner holds the first one open (so the worker cannot answer a ping).
    workers.start("doomed", "webhooks", await_ping=False)

    # Killed well within the delivery's 10-second HTTP timeout, so the worker is still waiting for the answer.
    assert receiver.first_arrived.wait(WAIT_SECONDS), "the first delivery never reached the receiver"
    workers.kill("doomed")
    receiver.release.set()
    assert WebhookEvent.objects.filter(pk__in=events, state=WebhookEvent.State.PENDING).count() == len(events)
    workers.start("replacement", "webhooks")

    eventually(
        lambda: WebhookEvent.objects.filter(pk__in=events, state=WebhookEvent.State.DELIVERED).count() == len(events),
        "every event to be delivered by the replacement worker",
    )
    assert set(receiver.received) == set(events), "each event reached the partner at least once"
    assert Counter(receiver.received)[receiver.received[0]] == 2, "the interrupted event was sent again"
    attempts = Counter(WebhookAttempt.objects.filter(event_id__in=events).values_list("event_id", flat=True))
    assert attempts == dict.fromkeys(events, 1), "each delivery is recorded once"
    assert set(WebhookEvent.objects.filter(pk__in=events).values_list("attempts", flat=True)) == {1}
