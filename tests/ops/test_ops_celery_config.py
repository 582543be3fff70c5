"""The Celery application's production shape: beat entries name real tasks, every task has a declared queue,
the cut-off arithmetic, and the scheduled close."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.celery import QUEUES
from config.celery import app as celery_app
from core.business_date import business_date_current, business_date_set
from core.close_due import days_close_due
from core.cutoff import cutoff_parse, last_closable_date


@pytest.fixture(scope="module")
def registered() -> dict:
    celery_app.loader.import_default_modules()
    return {name: task for name, task in celery_app.tasks.items() if not name.startswith("celery.")}


def test_every_beat_entry_names_a_registered_task(registered):
    schedule = celery_app.conf.beat_schedule
    assert set(schedule) == {
        "close-of-day", "limit-reassessment", "webhook-retries", "promise-checks", "idempotency-key-purge",
        "disbursement-chase", "auto-debit-rounds",
    }  # fmt: skip
    for name, entry in schedule.items():
        assert entry["task"] in registered, f"beat entry {name} names {entry['task']}, which is not a task"


def test_every_task_routes_to_a_declared_queue(registered):
    declared = {queue.name for queue in celery_app.conf.task_queues}
    assert declared == set(QUEUES)
    routes = {name: celery_app.amqp.router.route({}, name)["queue"].name for name in registered}
    assert set(routes.values()) <= declared
    assert routes["core.tasks.close_chunk_task"] == "close_of_day"
    assert routes["core.tasks.close_of_day_task"] != "close_of_day", "the driver must not wait behind its own chunks"
    assert {routes[name] for name in registered if name.startswith("payments.")} == {"payments"}
    assert routes["partners.tasks.webhook_deliver_task"] == "webhooks"
    assert routes["underwriting.tasks.limits_reassess_task"] == "scoring"


def test_tasks_are_acknowledged_late_and_retry_transient_errors(registered):
    from django.db import OperationalError

    for task in registered.values():
        assert task.acks_late, task.name
        assert OperationalError in task.autoretry_for, task.name
    assert celery_app.conf.worker_prefetch_multiplier == 1
    for name in ("core.tasks.close_chunk_task", "partners.tasks.webhook_deliver_task"):
        assert registered[name].reject_on_worker_lost, name
    assert registered["core.tasks.close_of_day_task"].soft_time_limit > celery_app.conf.task_soft_time_limit


def test_the_close_of_day_runs_at_the_configured_cutoff_in_the_business_time_zone():
    entry = celery_app.conf.beat_schedule["close-of-day"]["schedule"]
    assert (entry.hour, entry.minute) == ({0}, {30})
    assert str(celery_app.conf.timezone) == "Asia/Shanghai"


@pytest.mark.parametrize("value", ["24:00", "7", "07:60", "", "noon"])
def test_a_malformed_cutoff_is_refused(value):
    with pytest.raises(ValueError, match="HH:MM"):
        cutoff_parse(value)


@pytest.mark.parametrize(
    ("now", "cutoff", "closable"),
    [
        (datetime(2031, 3, 2, 0, 29), "00:30", date(2031, 2, 28)),
        (datetime(2031, 3, 2, 0, 30), "00:30", date(2031, 3, 1)),
        (datetime(2031, 3, 1, 21, 59), "22:00", date(2031, 2, 28)),
        (datetime(2031, 3, 1, 22, 0), "22:00", date(2031, 3, 1)),
        (datetime(2031, 3, 1, 12, 0), "12:00", date(2031, 3, 1)),
    ],
)
def test_the_last_closable_date(now, cutoff, closable):
    assert last_closable_date(now_local=now, cutoff=cutoff_parse(cutoff)) == closable


@settings(derandomize=True, max_examples=300)
@given(
    now=st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2100, 1, 1)),
    cutoff=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
def test_a_date_is_closable_exactly_from_its_cutoff_on(now, cutoff):
    closable = last_closable_date(now_local=now, cutoff=cutoff)
    own_cutoff = datetime.combine(closable, cutoff) + (timedelta(days=1) if cutoff < time(12) else timedelta())
    assert own_cutoff <= now < own_cutoff + timedelta(days=1)


@pytest.mark.django_db
def test_the_scheduled_close_closes_the_days_past_their_cutoff_and_nothing_twice():
    business_date_set(new_date=date(2031, 3, 1), reason="test")
    shanghai_00_31_on_march_3 = datetime(2031, 3, 2, 16, 31, tzinfo=UTC)
    assert days_close_due(now=shanghai_00_31_on_march_3, cutoff=time(0, 30)) == [date(2031, 3, 1), date(2031, 3, 2)]
    assert business_date_current() == date(2031, 3, 3)
    assert days_close_due(now=shanghai_00_31_on_march_3, cutoff=time(0, 30)) == []
    assert business_date_current() == date(2031, 3, 3)


@pytest.mark.django_db
def test_the_housekeeping_task_purges_expired_idempotency_keys_only():
    from django.utils import timezone

    from lending.models import Partner
    from partners.models import IdempotencyRecord
    from partners.tasks import idempotency_keys_purge_task

    partner = Partner.objects.create(code="ops", name="Ops")
    now = timezone.now()
    for key, expires_at in (("old", now - timedelta(seconds=1)), ("live", now + timedelta(hours=1))):
        IdempotencyRecord.objects.create(
            partner=partner, key=key, fingerprint="f", created_at=now - timedelta(days=1), expires_at=expires_at
        )
    assert idempotency_keys_purge_task.delay().get() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["live"]
