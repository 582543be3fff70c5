"""The Celery application in production shape. With no CELERY_BROKER_URL, tasks run eagerly in-process.

- Every task is acknowledged late, one message prefetched per worker process,
  so a worker that dies leaves its task to another worker; tasks are idempotent.
- Transient failures (database or broker connection lost, serialization
  failure) are retried with exponential backoff and jitter; others fail.
- Five queues, so one kind of work cannot starve another and each scales on
  its own machines: close_of_day (the chunks of the nightly close),
  webhooks (outbound deliveries to partners), payments (instructions to
  payment gateways), scoring (limit reassessment) and default (the close
  driver, housekeeping, promise checks).
- The close driver waits for its chunks, so it lives on `default` and the
  chunks on `close_of_day`: a worker busy driving can never block the chunks.
"""

import os

from celery import Celery, Task
from celery.schedules import crontab
from django.db import InterfaceError, OperationalError
from kombu import Queue
from kombu.exceptions import OperationalError as BrokerOperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

QUEUES = ("close_of_day", "webhooks", "payments", "scoring", "default")
MINUTE = 60
HOUR = 60 * MINUTE


class LendingTask(Task):
    """Base of every task: retried with backoff on errors that go away by themselves."""

    autoretry_for = (OperationalError, InterfaceError, BrokerOperationalError)
    retry_backoff = 5
    retry_backoff_max = 5 * MINUTE
    retry_jitter = True
    max_retries = 6
    acks_late = True


app = Celery("lending", task_cls=LendingTask)
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_after_configure.connect
def _beat_schedule(sender: Celery, **kwargs) -> None:
    """Read when the configuration is first used: the cut-off comes from the settings, not yet loaded at import."""
    from django.conf import settings

    from core.cutoff import cutoff_parse

    cutoff = cutoff_parse(settings.CLOSE_OF_DAY_CUTOFF)
    sender.conf.beat_schedule = {
        "close-of-day": {
            "task": "core.tasks.close_of_day_task",
            "schedule": crontab(hour=cutoff.hour, minute=cutoff.minute),
        },
        "limit-reassessment": {
            "task": "underwriting.tasks.limits_reassess_task",
            "schedule": crontab(hour=4, minute=0),
        },
        "webhook-retries": {"task": "partners.tasks.webhook_events_due_task", "schedule": MINUTE},
        "promise-checks": {"task": "debt_collection.tasks.promises_check_task", "schedule": crontab(minute=15)},
        "idempotency-key-purge": {"task": "partners.tasks.idempotency_keys_purge_task", "schedule": HOUR},
        "disbursement-chase": {"task": "payments.tasks.disbursements_chase_task", "schedule": 5 * MINUTE},
        # The close sends each day's first debit round; these are the retries within the day (the service
        # keeps to PAYMENTS_DEBIT_ROUNDS_PER_DAY, so an extra run sends nothing more).
        "auto-debit-rounds": {"task": "payments.tasks.debit_round_task", "schedule": crontab(hour="10,16", minute=0)},
    }


app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=False,  # per task: only where running twice is safe and the work must not be lost
    worker_prefetch_multiplier=1,
    worker_cancel_long_running_tasks_on_connection_loss=True,
    broker_connection_retry_on_startup=True,
    task_soft_time_limit=5 * MINUTE,
    task_time_limit=6 * MINUTE,
    task_queues=[Queue(name) for name in QUEUES],
    task_default_queue="default",
    task_create_missing_queues=False,
    task_routes={
        "core.tasks.close_chunk_task": {"queue": "close_of_day"},
        "core.tasks.close_of_day_task": {"queue": "default"},
        "partners.tasks.webhook_deliver_task": {"queue": "webhooks"},
        "partners.tasks.webhook_events_due_task": {"queue": "webhooks"},
        "partners.tasks.idempotency_keys_purge_task": {"queue": "default"},
        "underwriting.tasks.limits_reassess_task": {"queue": "scoring"},
        "debt_collection.tasks.promises_check_task": {"queue": "default"},
        "payments.tasks.disbursement_send_task": {"queue": "payments"},
        "payments.tasks.disbursements_chase_task": {"queue": "payments"},
        "payments.tasks.debit_send_task": {"queue": "payments"},
        "payments.tasks.debit_round_task": {"queue": "payments"},
    },
)
app.autodiscover_tasks()
