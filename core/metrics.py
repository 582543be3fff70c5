"""Prometheus metrics: close-of-day duration, partner API latency and errors per endpoint, webhook failures.

The metric objects live here so any app can record (`metrics.WEBHOOK_FAILURES.labels(...).inc()`).
`/metrics` serves the text format to callers allowed by `metrics_allowed`.

Several processes (gunicorn workers, Celery workers) each hold their own
counters. Set `PROMETHEUS_MULTIPROC_DIR` to an empty directory shared by the
processes of one machine (wiped at each start) and the endpoint aggregates the
files every process writes there; see the README's Observability section.
"""

import hmac
import ipaddress
import os
import time

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

CLOSE_DAY_SECONDS = Histogram(
    "lending_close_day_duration_seconds",
    "Wall time of closing one business day, all steps",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200),
)
CLOSE_STEP_SECONDS = Histogram(
    "lending_close_step_duration_seconds",
    "Wall time of one close-of-day step",
    ["step"],
    buckets=(0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600),
)
API_LATENCY_SECONDS = Histogram(
    "lending_api_request_duration_seconds",
    "Partner API request latency by endpoint (the URL pattern, not the path)",
    ["endpoint", "method"],
)
API_REQUESTS = Counter(
    "lending_api_requests_total", "Partner API requests by endpoint and status", ["endpoint", "method", "status"]
)
API_ERRORS = Counter(
    "lending_api_errors_total", "Partner API responses with status 400 or above", ["endpoint", "method", "status"]
)
WEBHOOK_FAILURES = Counter(
    "lending_webhook_delivery_failures_total",
    "Webhook delivery attempts that failed (timeouts, connection errors, non-2xx answers)",
    ["event_type"],
)

API_PREFIX = "/api/"


class ApiMetricsMiddleware:
    """Latency and status of every partner API request, labelled by URL pattern so the label set stays bounded."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        endpoint = f"/{match.route}" if match is not None else "unmatched"
        method = request.method if request.method in {"GET", "POST", "PUT", "PATCH", "DELETE"} else "other"
        API_LATENCY_SECONDS.labels(endpoint, method).observe(time.perf_counter() - started)
        status = str(response.status_code)
        API_REQUESTS.labels(endpoint, method, status).inc()
        if response.status_code >= 400:
            API_ERRORS.labels(endpoint, method, status).inc()
        return response


def metrics_allowed(request) -> bool:
    """A bearer token from METRICS_TOKEN, or a client address in METRICS_ALLOWED_IPS (loopback by default)."""
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in settings.METRICS_ALLOWED_IPS)


def _registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return DEFAULT_REGISTRY


def metrics_view(request):
    if not metrics_allowed(request):
        return HttpResponseForbidden("metrics: set METRICS_TOKEN or METRICS_ALLOWED_IPS\n", content_type="text/plain")
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
