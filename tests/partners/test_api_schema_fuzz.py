"""Schemathesis over the whole OpenAPI schema, in process against the WSGI app: no 5xx, responses as documented.

Bounded and deterministic: a fixed number of examples per operation, derandomised by the project's
hypothesis profile, valid and invalid inputs both, with the key of a partner that owns real objects.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from partners.models import PartnerApiSettings

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(db):
    # Like Django's test client: a request's end must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
    yield schema
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_answers_as_documented_and_never_5xx(case, acme):
    PartnerApiSettings.objects.get_or_create(partner=acme.partner, defaults={"requests_per_minute": 1_000_000})
    case.call_and_validate(headers={"Authorization": f"Bearer {acme.key}"}, checks=CHECKS)
