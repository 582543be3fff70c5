"""The close-of-day runner: it closes one business date by running the steps
that apps register, in order, and then opens the next date.

Core knows no app. Each app's `close.py` registers its steps with
`@close_step(...)`. A step is a function `step(*, business_date, progress)`
that may return a dict of counts. Each (date, step) is recorded in
`CloseStepRun`; a finished step is skipped on a re-run, so a close that
crashed is simply run again. Steps that commit in chunks must themselves
pick up only work not yet done, so that re-running a half-finished step
never posts twice.

Steps marked `final` (the ledger seal) run in the same transaction that moves
the date, under the exclusive business-date lock.
"""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from core import metrics
from core.business_date import business_date_advance, business_date_current, business_date_lock_for_close
from core.errors import DomainError
from core.locks import CLOSE_RUN_LOCK, advisory_try_lock, advisory_unlock
from core.models import CloseStepRun
from core.progress import Progress, SilentProgress

StepFunction = Callable[..., dict | None]


@dataclass(frozen=True)
class CloseStep:
    name: str
    order: int
    run: StepFunction
    final: bool = False


_registry: dict[str, CloseStep] = {}


def close_step(name: str, *, order: int, final: bool = False) -> Callable[[StepFunction], StepFunction]:
    """Register a close-of-day step. `order` sorts steps; apps leave gaps (100, 200…)."""

    def register(function: StepFunction) -> StepFunction:
        if name in _registry and _registry[name].run is not function:
            raise ValueError(f"close step {name!r} is registered twice")
        _registry[name] = CloseStep(name=name, order=order, run=function, final=final)
        return function

    return register


ChunkHandler = Callable[..., dict | None]
_chunk_handlers: dict[str, ChunkHandler] = {}


def close_chunk_handler(name: str) -> Callable[[ChunkHandler], ChunkHandler]:
    """Register `handler(*, business_date, ids)`: one chunk of a step, its own transaction, safe to run twice."""

    def register(handler: ChunkHandler) -> ChunkHandler:
        _chunk_handlers[name] = handler
        return handler

    return register


def chunk_transaction_tune() -> None:
    """Settings for the current chunk transaction on PostgreSQL (a no-op elsewhere); call it inside the transaction.

    - No JIT: a chunk's queries are costed high enough to be JIT-compiled,
      which takes longer (≈ 20 ms a query) than running them.
    - No wait for the WAL flush at commit (`synchronous_commit = off`). A
      database crash can lose the last chunks committed (never part of one),
      which the close tolerates: a lost chunk leaves its loans not done for
      the day (`closed_through`), and a re-run redoes them. Nothing can build
      on a lost chunk durably either: any later synchronous commit (a
      repayment, the step's finished mark, the seal) flushes the WAL up to
      itself, the chunk's commit included.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off; SET LOCAL synchronous_commit = off")


def chunk_run(*, handler: str, business_date: date, ids: list[int]) -> dict:
    return _chunk_handlers[handler](business_date=business_date, ids=ids) or {}


def chunks_run(*, handler: str, business_date: date, chunks: list[list[int]], progress: Progress) -> list[dict]:
    """Run every chunk: in this process without a broker, fanned out to Celery workers with one.

    Chunk tasks are acknowledged late and idempotent, so a worker that dies
    mid-chunk leaves the chunk to be redone (its transaction never
    committed), and a re-run of the step redoes only unfinished work.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        threads = min(settings.CLOSE_CHUNK_THREADS, len(chunks))
        # Threads need their own connections, hence committed data: not on SQLite (one writer) nor inside a
        # transaction (tests), where the chunks run one after the other on this connection.
        if threads > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block:
            return _chunks_run_on_threads(handler, business_date, chunks, progress, threads)
        results = []
        for done, ids in enumerate(chunks, start=1):
            results.append(chunk_run(handler=handler, business_date=business_date, ids=ids))
            progress.chunk_done(handler, done, len(chunks))
        return results
    from celery import group

    from core.tasks import close_chunk_task

    pending = group(close_chunk_task.s(handler, business_date.isoformat(), ids) for ids in chunks).apply_async()
    reported = 0
    while not pending.ready():
        if (done := pending.completed_count()) != reported:
            reported = done
            progress.chunk_done(handler, done, len(chunks))
        time.sleep(0.2)
    progress.chunk_done(handler, len(chunks), len(chunks))
    return pending.get(disable_sync_subtasks=False)


def _chunk_run_on_own_connection(handler: str, business_date: date, ids: list[int]) -> dict:
    try:
        return chunk_run(handler=handler, business_date=business_date, ids=ids)
    finally:
        connections.close_all()  # this thread's connections; pool threads outlive the step


def _chunks_run_on_threads(
    handler: str, business_date: date, chunks: list[list[int]], progress: Progress, threads: int
) -> list[dict]:
    """Run the chunks on a few threads, which overlap one chunk's database waits with another's Python.

    A failed chunk stops the step once the chunks already running have
    finished; queued ones are dropped, and a re-run picks up all unfinished work.
    """
    results = []
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="close-chunk") as pool:
        futures = [pool.submit(_chunk_run_on_own_connection, handler, business_date, ids) for ids in chunks]
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                results.append(future.result())
                progress.chunk_done(handler, done, len(chunks))
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    return results


def close_steps() -> list[CloseStep]:
    return sorted(_registry.values(), key=lambda step: (step.final, step.order, step.name))


@contextmanager
def _only_one_close():
    if not advisory_try_lock(CLOSE_RUN_LOCK):
        raise DomainError("close_running", "another close of day is running")
    try:
        yield
    finally:
        advisory_unlock(CLOSE_RUN_LOCK)


def _run_step(step: CloseStep, business_date: date, progress: Progress) -> None:
    record, _ = CloseStepRun.objects.get_or_create(
        business_date=business_date, step=step.name, defaults={"started_at": timezone.now()}
    )
    if record.status == CloseStepRun.Status.FINISHED:
        progress.step_finished(business_date, step.name, skipped=True, detail=record.detail)
        return
    record.attempts += 1
    record.started_at = timezone.now()
    record.save(update_fields=["attempts", "started_at"])
    progress.step_started(business_date, step.name)

    with metrics.CLOSE_STEP_SECONDS.labels(step.name).time():
        detail = step.run(business_date=business_date, progress=progress) or {}

    record.status = CloseStepRun.Status.FINISHED
    record.finished_at = timezone.now()
    record.detail = detail
    record.save(update_fields=["status", "finished_at", "detail"])
    progress.step_finished(business_date, step.name, skipped=False, detail=detail)


def day_close(*, business_date: date, progress: Progress | None = None) -> date:
    """Close `business_date` (which must be the open date) and return the new open date."""
    progress = progress or SilentProgress()
    started = time.perf_counter()
    with _only_one_close():
        if business_date != business_date_current():
            raise DomainError(
                "not_open_date",
                f"{business_date.isoformat()} is not the open business date",
                field="business_date",
            )
        steps = close_steps()
        for step in steps:
            if not step.final:
                _run_step(step, business_date, progress)
        with transaction.atomic():
            calendar = business_date_lock_for_close()
            for step in steps:
                if step.final:
                    _run_step(step, business_date, progress)
            open_date = business_date_advance(calendar=calendar, closed_date=business_date)
    metrics.CLOSE_DAY_SECONDS.observe(time.perf_counter() - started)
    progress.day_finished(business_date, open_date)
    return open_date


def days_close_until(*, until: date, progress: Progress | None = None) -> list[date]:
    """Close the open date and every following date up to and including `until`, one by one."""
    current = business_date_current()
    if until < current:
        raise DomainError(
            "until_before_open_date",
            f"--until {until.isoformat()} is before the open business date {current.isoformat()}",
            field="until",
        )
    closed = []
    while current <= until:
        day_close(business_date=current, progress=progress)
        closed.append(current)
        current = current + timedelta(days=1)
    return closed
