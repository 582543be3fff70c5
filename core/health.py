"""Probes for load balancers and orchestrators: liveness without the database, readiness with its dependencies."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from kombu import Connection

BROKER_TIMEOUT_SECONDS = 2


def healthz(request):
    """The process answers HTTP; checks nothing else, so a database outage does not restart every web process."""
    return JsonResponse({"status": "ok"})


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any failure means not ready; the type is reported
        return f"unreachable ({type(error).__name__})"
    return "ok"


def _broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.CELERY_BROKER_URL:
        return "skipped (tasks run eagerly in-process)"
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT_SECONDS) as broker:
            broker.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as error:  # noqa: BLE001 - any failure means not ready; the type is reported
        return f"unreachable ({type(error).__name__})"
    return "ok"


def readyz(request):
    """200 when the database and the broker answer, 503 otherwise; the body says which failed (no secrets)."""
    checks = {"database": _database(), "broker": _broker()}
    ready = all(value == "ok" or value.startswith("skipped") for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
