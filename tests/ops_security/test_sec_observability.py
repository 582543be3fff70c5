"""Request ids, JSON logs with the partner code and no personal data, health probes and the Prometheus endpoint."""

import io
import json
import logging
import socket
from datetime import date

import httpx
import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import timezone
from prometheus_client import REGISTRY

from core import health
from core.business_date import business_date_set
from core.close import day_close
from core.log_format import JsonFormatter, PiiMaskFilter, RequestContextFilter, pii_mask_text
from partners import webhooks
from partners.models import WebhookEvent
from partners.services import webhook_endpoint_set

NATIONAL_ID = "11010119900101004X"
MOBILE = "13812345678"
CARD = "6222 0212 3456 7890 123"


@pytest.fixture
def json_log():
    """The project's JSON handler (as production configures it) on the root logger, writing to a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    handler.addFilter(PiiMaskFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def _sample(name: str, labels: dict | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


# --- request ids and logs ---------------------------------------------------------


def test_a_request_without_an_id_gets_one_and_it_is_returned(db):
    response = Client().get("/healthz")

    assert len(response["X-Request-ID"]) == 32


def test_a_callers_request_id_is_kept_and_a_forged_one_replaced(db):
    assert Client().get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.42")["X-Request-ID"] == "lb-7f3a.42"
    forged = Client().get("/healthz", HTTP_X_REQUEST_ID='x"\n{"level":"INFO"}')["X-Request-ID"]
    assert forged != 'x"\n{"level":"INFO"}' and len(forged) == 32


def test_an_api_request_logs_one_json_line_with_request_id_and_partner_and_no_personal_data(partner_key, json_log):
    partner, key = partner_key

    response = Client().get(
        f"/api/v1/borrowers?national_id={NATIONAL_ID}&mobile={MOBILE}&card={CARD.replace(' ', '+')}",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_X_REQUEST_ID="req-1",
    )

    (line,) = [record for record in json_log() if record["logger"] == "lending.access"]
    assert line["request_id"] == "req-1" and line["partner"] == "acme"
    assert line["status"] == response.status_code and line["level"] == "INFO"
    assert line["message"].startswith("GET /api/v1/borrowers?national_id=")
    raw = json.dumps(json_log())
    assert NATIONAL_ID not in raw and MOBILE not in raw and "6222" not in raw
    assert "**************004X" in line["message"] and "*******5678" in line["message"]


def test_personal_data_in_a_message_its_arguments_extras_and_a_traceback_is_masked(db, json_log):
    log = logging.getLogger("lending.test")
    try:
        raise ValueError(f"duplicate borrower {NATIONAL_ID}")
    except ValueError:
        log.exception("onboarding failed for %s", MOBILE, extra={"card": CARD})

    (record,) = json_log()
    rendered = json.dumps(record)
    assert NATIONAL_ID not in rendered and MOBILE not in rendered and CARD not in rendered
    assert record["message"] == "onboarding failed for *******5678"
    assert "ValueError: duplicate borrower **************004X" in record["exception"]
    assert record["card"] == "*" * 19 + " 123" and record["request_id"] == "-"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("+86 13912345678", "***********5678"),
        ("8613912345678", "*********5678"),
        ("110101900101123", "***********1123"),
        ("91350100M000100Y43", "**************0Y43"),
        ("6222021234567890", "************7890"),
        ("6222-0212-3456-7890", "***************7890"),
        ("6222%200212%203456%207890", "*********************7890"),
    ],
)
def test_identifiers_are_masked_to_their_last_four_characters(text, masked):
    assert pii_mask_text(f"value={text};") == f"value={masked};"


@pytest.mark.parametrize(
    "text",
    [
        "close 2031-01-30 2031-02-01 done",
        "amount 12000.00 CNY, rate 0.00040000",
        "loan 123456 entry 98765",
        "request 0a29087a226b4c55b8492b95515ed9fd",
    ],
)
def test_dates_amounts_ids_and_request_ids_are_left_alone(text):
    assert pii_mask_text(text) == text


# --- health probes -------------------------------------------------------------


def test_liveness_answers_without_touching_the_database(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get("/healthz")

    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readiness_is_ok_with_the_database_and_an_eager_broker(db):
    response = Client().get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "skipped (tasks run eagerly in-process)"}


def test_readiness_is_503_when_the_broker_does_not_answer(db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("unreachable")
    assert "127.0.0.1:1" not in response.content.decode()


def test_readiness_is_503_when_the_database_does_not_answer(db, monkeypatch):
    class DownConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(health, "connection", DownConnection())

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unreachable (OperationalError)"


def test_readiness_with_a_real_redis_broker(db, settings):
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"

    assert Client().get("/readyz").status_code == 200


# --- metrics -------------------------------------------------------------------


def test_metrics_refuse_a_caller_outside_the_allow_list_without_the_token(db, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"

    assert Client().get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    assert Client().get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    allowed = Client().get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")
    assert allowed.status_code == 200
    assert Client().get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200


def test_metrics_allow_a_configured_network(db, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]

    assert Client().get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert Client().get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_api_latency_and_errors_are_counted_per_url_pattern(partner_key):
    _, key = partner_key
    endpoint = {"endpoint": "/api/v1/loans/<id:pk>", "method": "GET"}
    before_errors = _sample("lending_api_errors_total", {**endpoint, "status": "404"})
    before_latency = _sample("lending_api_request_duration_seconds_count", endpoint)

    for loan_id in (1, 2, 3):
        assert Client().get(f"/api/v1/loans/{loan_id}", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 404

    assert _sample("lending_api_errors_total", {**endpoint, "status": "404"}) == before_errors + 3
    assert _sample("lending_api_request_duration_seconds_count", endpoint) == before_latency + 3
    text = Client().get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'lending_api_requests_total{endpoint="/api/v1/loans/<id:pk>",method="GET",status="404"}' in text


def test_a_close_of_day_records_its_duration_and_each_steps(db):
    business_date_set(new_date=date(2031, 1, 15), reason="metrics test")
    before = _sample("lending_close_day_duration_seconds_count")
    seal_before = _sample("lending_close_step_duration_seconds_count", {"step": "ledger.seal_day"})

    day_close(business_date=date(2031, 1, 15))

    assert _sample("lending_close_day_duration_seconds_count") == before + 1
    assert _sample("lending_close_step_duration_seconds_count", {"step": "ledger.seal_day"}) == seal_before + 1


def test_a_failed_webhook_delivery_is_counted(partner_key, monkeypatch):
    partner, _ = partner_key
    webhook_endpoint_set(partner=partner, url="https://acme.example/hooks")
    event = WebhookEvent.objects.create(
        partner=partner, type=WebhookEvent.Type.LOAN_PAID_OFF, payload={"loan_id": 1}, next_attempt_at=timezone.now()
    )
    monkeypatch.setattr(
        webhooks, "http_client", lambda: httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(502)))
    )
    labels = {"event_type": "loan.paid_off"}
    before = _sample("lending_webhook_delivery_failures_total", labels)

    webhooks.webhook_event_deliver(event_id=event.pk)

    assert _sample("lending_webhook_delivery_failures_total", labels) == before + 1
