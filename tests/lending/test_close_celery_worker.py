"""The close of day fanned out to a real Celery worker (Redis broker, PostgreSQL) ends exactly like
the same close run in-process."""

import os
import signal
import subprocess
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count

import core.close
import lending.close
from config.celery import QUEUES
from config.celery import app as celery_app
from core.close import day_close
from ledger.models import JournalEntry
from ledger.selectors import account_balances
from lending.models import Installment, Loan
from lending.services.repayments import repayment_post

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BASE_DIR = Path(settings.BASE_DIR)
BROKER_URL = "redis://127.0.0.1:6379/15"
FIRST_DUE = date(2031, 2, 15)
WORKER_READY_SECONDS = 30


def worker_database_url() -> str:
    """The URL of the database this test uses (test_lending), for the worker process."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}{'@' if credentials else ''}{host}{port}/{db['NAME']}"


@pytest.fixture
def redis_db():
    """Redis database 15, flushed; skipped (failed in CI) when Redis does not answer."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, db=15, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.RedisError as error:
        message = f"Redis at 127.0.0.1:6379 does not answer ({error}); the real-worker test needs it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def _drop_connections(app) -> None:
    """Forget the app's broker pool and result backend, so the next use follows the current conf."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None
    app._backend_cache = None
    if hasattr(app._local, "backend"):
        del app._local.backend


@pytest.fixture
def broker(redis_db, settings):
    """This process sends close chunks to Redis instead of running them eagerly; restored afterwards."""
    keys = ("broker_url", "result_backend", "task_always_eager")
    saved = {key: celery_app.conf[key] for key in keys}
    _drop_connections(celery_app)
    celery_app.conf.update(broker_url=BROKER_URL, result_backend=BROKER_URL, task_always_eager=False)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        yield celery_app
    finally:
        _drop_connections(celery_app)
        celery_app.conf.update(saved)


@pytest.fixture
def worker(broker, tmp_path):
    """A real worker process on the test database, killed (its whole process group) afterwards."""
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": BROKER_URL,
        "CELERY_RESULT_BACKEND": BROKER_URL,
        "DB_CONN_MAX_AGE": "0",
    }
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                str(BASE_DIR / ".venv" / "bin" / "celery"),
                "-A", "config", "worker", "--pool=solo", "--concurrency=1", "-Q", ",".join(QUEUES),
                "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING",
            ],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + WORKER_READY_SECONDS
        while not broker.control.ping(timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not come up:\n{log_path.read_text()[-3000:]}")
        yield process
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue


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
