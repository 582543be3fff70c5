"""The close-of-day runner: steps in order, safe re-runs, catching up, and the command."""

import json
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from core.business_date import business_date_current
from core.close import close_step, close_steps, day_close, days_close_until
from core.errors import DomainError
from core.locks import CLOSE_RUN_LOCK
from core.models import CloseStepRun
from ledger.models import DaySeal, JournalEntry
from ledger.services import GENERAL_CHAIN, EntryDraft, credit, debit, entry_post

pytestmark = pytest.mark.django_db


class Recorder:
    """Close steps that write down each call, so tests can count what ran."""

    def __init__(self):
        self.calls: list[tuple[str, date]] = []

    def step(self, name: str, *, order: int, final: bool = False, fail_times: int = 0):
        failures_left = [fail_times]

        @close_step(name, order=order, final=final)
        def run(*, business_date, progress):
            self.calls.append((name, business_date))
            if failures_left[0]:
                failures_left[0] -= 1
                raise RuntimeError(f"{name} crashed")
            return {"seen": len(self.calls)}

        return run

    def count(self, name: str) -> int:
        return sum(1 for called, _ in self.calls if called == name)


@pytest.fixture
def recorder(close_registry) -> Recorder:
    return Recorder()


def _run(business_date: date, step: str) -> CloseStepRun:
    return CloseStepRun.objects.get(business_date=business_date, step=step)


def test_registered_steps_are_ordered_by_order_with_final_steps_last(recorder):
    recorder.step("test.late", order=300)
    recorder.step("test.early", order=100)
    recorder.step("test.final_early", order=5, final=True)

    assert [step.name for step in close_steps()] == [
        "test.early",
        "test.late",
        "test.final_early",
        "ledger.seal_day",
    ]


def test_registering_a_different_function_under_a_taken_name_is_refused(recorder):
    recorder.step("test.once", order=100)

    with pytest.raises(ValueError, match="registered twice"):
        recorder.step("test.once", order=100)


def test_day_close_runs_the_steps_in_order_seals_the_day_and_opens_the_next(open_date, recorder):
    recorder.step("test.second", order=200)
    recorder.step("test.first", order=100)

    opened = day_close(business_date=open_date)

    assert recorder.calls == [("test.first", open_date), ("test.second", open_date)]
    assert opened == open_date + timedelta(days=1) == business_date_current()
    assert DaySeal.objects.filter(business_date=open_date).exists()
    runs = CloseStepRun.objects.filter(business_date=open_date)
    assert {run.step: (run.status, run.attempts) for run in runs} == {
        "test.first": ("finished", 1),
        "test.second": ("finished", 1),
        "ledger.seal_day": ("finished", 1),
    }
    assert _run(open_date, "test.first").detail == {"seen": 1}


def test_closing_a_date_again_after_its_close_finished_is_refused_because_the_date_moved(open_date, recorder):
    recorder.step("test.only", order=100)
    day_close(business_date=open_date)

    with pytest.raises(DomainError) as refused:
        day_close(business_date=open_date)

    assert refused.value.code == "not_open_date"
    assert recorder.count("test.only") == 1
    assert business_date_current() == open_date + timedelta(days=1)


def test_closing_a_date_that_is_not_yet_open_is_refused(open_date, recorder):
    recorder.step("test.only", order=100)

    with pytest.raises(DomainError) as refused:
        day_close(business_date=open_date + timedelta(days=1))

    assert refused.value.code == "not_open_date"
    assert recorder.calls == []


def test_a_crashing_step_leaves_the_date_open_and_its_run_marked_running(open_date, recorder):
    recorder.step("test.before", order=100)
    recorder.step("test.crashes", order=200, fail_times=1)
    recorder.step("test.after", order=300)

    with pytest.raises(RuntimeError, match="test.crashes crashed"):
        day_close(business_date=open_date)

    assert business_date_current() == open_date
    assert not DaySeal.objects.exists()
    crashed = _run(open_date, "test.crashes")
    assert (crashed.status, crashed.attempts, crashed.finished_at) == ("running", 1, None)
    assert _run(open_date, "test.before").status == "finished"
    assert not CloseStepRun.objects.filter(step__in=["test.after", "ledger.seal_day"]).exists()
    assert recorder.count("test.after") == 0


def test_rerunning_a_crashed_close_skips_finished_steps_and_posts_the_crashed_steps_effect_once(open_date, recorder):
    """The crashing step commits its entry, then dies before the runner marks it finished."""
    recorder.step("test.before", order=100)
    crashes_left = [1]

    @close_step("test.accrue", order=200)
    def accrue(*, business_date, progress):
        reference = f"accrual:{business_date.isoformat()}"
        if not JournalEntry.objects.filter(reference=reference).exists():
            entry_post(
                draft=EntryDraft(
                    kind="test_accrual",
                    chain=GENERAL_CHAIN,
                    reference=reference,
                    lines=[
                        debit("interest_receivable", Decimal("12.34")),
                        credit("interest_income", Decimal("12.34")),
                    ],
                ),
                business_date=business_date,
            )
        if crashes_left[0]:
            crashes_left[0] -= 1
            raise RuntimeError("worker killed after posting")
        return {"posted": 1}

    recorder.step("test.after", order=300)

    with pytest.raises(RuntimeError):
        day_close(business_date=open_date)
    opened = day_close(business_date=open_date)

    assert opened == open_date + timedelta(days=1)
    assert recorder.count("test.before") == 1
    assert recorder.count("test.after") == 1
    assert JournalEntry.objects.filter(reference=f"accrual:{open_date.isoformat()}").count() == 1
    accrued = _run(open_date, "test.accrue")
    assert (accrued.status, accrued.attempts) == ("finished", 2)
    assert _run(open_date, "test.before").attempts == 1
    seal = DaySeal.objects.get(business_date=open_date)
    assert seal.entry_count == 1


def test_a_crashing_final_step_rolls_back_the_seal_and_the_advance(open_date, recorder):
    recorder.step("test.before", order=100)
    recorder.step("test.final_crashes", order=20_000, final=True, fail_times=1)

    with pytest.raises(RuntimeError):
        day_close(business_date=open_date)

    assert business_date_current() == open_date
    assert not DaySeal.objects.exists()
    assert not CloseStepRun.objects.filter(step__in=["ledger.seal_day", "test.final_crashes"]).exists()
    assert _run(open_date, "test.before").status == "finished"

    assert day_close(business_date=open_date) == open_date + timedelta(days=1)
    assert recorder.count("test.before") == 1
    assert DaySeal.objects.filter(business_date=open_date).count() == 1


def test_days_close_until_closes_each_day_in_order_and_opens_the_day_after(open_date, recorder):
    recorder.step("test.first", order=100)
    recorder.step("test.second", order=200)
    until = open_date + timedelta(days=2)

    closed = days_close_until(until=until)

    days = [open_date + timedelta(days=n) for n in range(3)]
    assert closed == days
    assert recorder.calls == [(name, day) for day in days for name in ("test.first", "test.second")]
    assert list(DaySeal.objects.values_list("business_date", flat=True)) == days
    assert business_date_current() == until + timedelta(days=1)


def test_days_close_until_the_open_date_closes_just_that_day(open_date, recorder):
    recorder.step("test.only", order=100)

    assert days_close_until(until=open_date) == [open_date]
    assert business_date_current() == open_date + timedelta(days=1)


def test_days_close_until_a_date_before_the_open_date_is_refused(open_date, recorder):
    recorder.step("test.only", order=100)

    with pytest.raises(DomainError) as refused:
        days_close_until(until=open_date - timedelta(days=1))

    assert refused.value.code == "until_before_open_date"
    assert recorder.calls == []
    assert business_date_current() == open_date


# --- the close_day command ------------------------------------------------------


def test_close_day_command_closes_every_day_until_the_given_date_and_reports_progress(open_date, recorder, capsys):
    recorder.step("test.only", order=100)
    until = open_date + timedelta(days=2)

    call_command("close_day", "--until", until.isoformat())

    out, err = capsys.readouterr()
    assert business_date_current() == until + timedelta(days=1)
    assert recorder.count("test.only") == 3
    assert f"Closed 3 day(s), {open_date} to {until}; business date is now {until + timedelta(days=1)}" in out
    for day in (open_date, until):
        assert f"{day} test.only …" in err
        assert f"{day} test.only done — seen=" in err
        assert f"{day} ledger.seal_day done — entries=0" in err
    assert "digest" not in err


def test_close_day_command_without_until_closes_only_the_open_date(open_date, recorder, capsys):
    recorder.step("test.only", order=100)

    call_command("close_day")

    assert business_date_current() == open_date + timedelta(days=1)
    assert recorder.calls == [("test.only", open_date)]


def test_close_day_command_json_output_lists_the_closed_days_and_the_open_date(open_date, recorder, capsys):
    recorder.step("test.only", order=100)

    call_command("close_day", "--until", (open_date + timedelta(days=1)).isoformat(), "--json")

    result = json.loads(capsys.readouterr().out)
    assert result == {
        "closed": [open_date.isoformat(), (open_date + timedelta(days=1)).isoformat()],
        "open": (open_date + timedelta(days=2)).isoformat(),
    }


def test_close_day_command_reports_a_skipped_step_on_a_rerun(open_date, recorder, capsys):
    recorder.step("test.before", order=100)
    recorder.step("test.crashes", order=200, fail_times=1)
    with pytest.raises(RuntimeError):
        call_command("close_day")
    capsys.readouterr()

    call_command("close_day")

    assert f"{open_date} test.before skipped (already done)" in capsys.readouterr().err
    assert recorder.count("test.before") == 1


def test_close_day_command_turns_a_domain_error_into_a_command_error(open_date, recorder):
    recorder.step("test.only", order=100)

    with pytest.raises(CommandError, match=r"before the open business date.*\[until_before_open_date\]"):
        call_command("close_day", "--until", (open_date - timedelta(days=1)).isoformat())

    assert recorder.calls == []


def test_close_day_command_refuses_an_until_that_is_not_a_date(open_date, recorder):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("close_day", "--until", "31/01/2031")


# --- only one close at a time (PostgreSQL advisory lock) --------------------------


@pytest.mark.postgres
def test_a_close_is_refused_while_another_close_holds_the_close_lock(open_date, recorder):
    recorder.step("test.only", order=100)
    locked, release = threading.Event(), threading.Event()

    def other_close():
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [CLOSE_RUN_LOCK])
                locked.set()
                release.wait(timeout=10)
                cursor.execute("SELECT pg_advisory_unlock(%s)", [CLOSE_RUN_LOCK])
        finally:
            connections["default"].close()

    holder = threading.Thread(target=other_close)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with pytest.raises(DomainError) as refused:
            day_close(business_date=open_date)
    finally:
        release.set()
        holder.join(timeout=10)

    assert refused.value.code == "close_running"
    assert recorder.calls == []
    assert day_close(business_date=open_date) == open_date + timedelta(days=1)
