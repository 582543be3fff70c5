"""Real Celery workers for the tests that need them (PostgreSQL leg): Redis database 13 as the broker, worker
processes on the test database that a test can SIGKILL and replace.

The workers hand a task whose worker died back to the queue after `VISIBILITY_SECONDS` (Redis's
visibility timeout, normally an hour), and a new worker restores such tasks when it starts, so a test waits
that long after a kill before starting the replacement (`Workers.start` does).
"""

import os
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import kombu.pools
import pytest
from django.conf import settings as django_settings
from django.db import connection

from config.celery import app as celery_app

BASE_DIR = Path(django_settings.BASE_DIR)
BROKER_URL = "redis://127.0.0.1:6379/13"
VISIBILITY_SECONDS = 2
WORKER_READY_SECONDS = 30


def worker_database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}{'@' if credentials else ''}{host}{port}/{db['NAME']}"


@pytest.fixture
def redis_db():
    """Redis database 13, flushed; skipped (failed in CI) when Redis does not answer."""
    import redis

    client = redis.Redis.from_url(BROKER_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.RedisError as error:
        message = f"Redis at 127.0.0.1:6379 does not answer ({error}); the worker crash tests need it"
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
    kombu.pools.reset()  # kombu keeps a producer pool per broker URL for the process; it was just closed


@pytest.fixture
def broker(redis_db, settings):
    """This process sends tasks to Redis instead of running them eagerly; restored afterwards."""
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


class Workers:
    """Starts named worker processes (each in its own process group) and kills them."""

    def __init__(self, app, log_dir: Path):
        self.app, self.log_dir, self.processes = app, log_dir, {}
        self.killed_at: float | None = None

    @staticmethod
    def database_url() -> str:
        return worker_database_url()

    def start(
        self, name: str, queues: str, *, await_ping: bool = True, visibility_seconds: int = VISIBILITY_SECONDS
    ) -> subprocess.Popen:
        """Start a worker; by default wait until it answers a ping (a solo worker busy with a task does not).

        A test that kills no worker passes Redis's usual visibility timeout, so that a long task is
        never handed out a second time while it runs.
        """
        if self.killed_at is not None:
            time.sleep(max(0.0, VISIBILITY_SECONDS + 0.5 - (time.monotonic() - self.killed_at)))
        env = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "CELERY_BROKER_URL": BROKER_URL,
            "CELERY_RESULT_BACKEND": BROKER_URL,
            "CELERY_VISIBILITY_TIMEOUT": str(visibility_seconds),
            "DB_CONN_MAX_AGE": "0",
        }
        log_path = self.log_dir / f"{name}.log"
        node = f"{name}@ops-test"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [
                    str(BASE_DIR / ".venv" / "bin" / "celery"), "-A", "config", "worker", "-n", node,
                    "--pool=solo", "-Q", queues, "--without-gossip", "--without-mingle", "--without-heartbeat",
                    "-l", "WARNING",
                ],
                cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.processes[name] = process
        if not await_ping:
            return process
        deadline = time.monotonic() + WORKER_READY_SECONDS
        while not self.app.control.ping(destination=[node], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker {name} did not come up:\n{log_path.read_text()[-3000:]}")
        return process

    def kill(self, name: str) -> None:
        """SIGKILL the worker's whole process group, as a machine dying would."""
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        self.killed_at = time.monotonic()

    def stop_all(self) -> None:
        for process in self.processes.values():
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                if process.poll() is not None:
                    break
                try:
                    os.killpg(process.pid, sig)
                    process.wait(timeout=wait)
                except ProcessLookupError:
                    break
                except subprocess.TimeoutExpired:
                    continue


@pytest.fixture
def workers(broker, tmp_path):
    pool = Workers(broker, tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()
