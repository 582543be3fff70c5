"""One JSON error shape for every failure of the partner API.

    {"error": {"code": "<stable code>", "message": "<readable>", "fields": {"<field>": "<message>"}}}

Request validation → 400; a business rule a service refuses (DomainError) →
422, or 409 when it is about the state of an object, 404 when it is not
found; auth 401; rate limit 429 with Retry-After; a body too large 413.
"""

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError

CONFLICT_CODES = frozenset(
    {
        "borrower_exists",
        "idempotency_key_in_flight",
        "line_closed",
        "line_expired",
        "line_not_active",
        "loan_not_open",
        "loan_not_pending",
        "transition_not_allowed",
    }
)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "the request body is too large"
    default_code = "payload_too_large"


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def domain_error_status(error: DomainError) -> int:
    if error.code == "not_found":
        return status.HTTP_404_NOT_FOUND
    if error.code in CONFLICT_CODES:
        return status.HTTP_409_CONFLICT
    return status.HTTP_422_UNPROCESSABLE_ENTITY


def domain_error_body(error: DomainError) -> dict:
    return error_body(error.code, str(error), {error.field: error.message} if error.field else {})


def _flatten(detail, prefix: str = "") -> dict[str, str]:
    if isinstance(detail, dict):
        fields = {}
        for name, value in detail.items():
            fields.update(_flatten(value, f"{prefix}.{name}" if prefix else str(name)))
        return fields
    if isinstance(detail, list):
        if detail and all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": " ".join(str(item) for item in detail)}
        fields = {}
        for index, item in enumerate(detail):
            fields.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return fields
    return {prefix or "non_field_errors": str(detail)}


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(domain_error_body(exc), status=domain_error_status(exc))
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("the request could not be read")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("not found")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        response.data = error_body("invalid_request", "invalid fields: " + ", ".join(sorted(fields)), fields)
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        response.data = error_body(code, str(exc.detail))
    return response


@csrf_exempt
def not_found_view(request, *args, **kwargs):
    """Any path under /api/v1/ that names no endpoint, or an id that is not an id."""
    return JsonResponse(error_body("not_found", "not found"), status=404)
