"""OpenAPI pieces shared by the views: the Idempotency-Key header, error responses, request/response examples."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from partners.api.serializers import ErrorSerializer
from partners.idempotency import KEY_HEADER


class BearerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "partners.api.auth.BearerKeyAuthentication"
    name = "partnerKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A partner API key (`lpk_…`), shown once"}


IDEMPOTENCY_KEY = OpenApiParameter(
    KEY_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="Up to 64 printable ASCII characters; the same key replays the first response for 24 hours",
)


def _error(description: str, code: str, message: str, fields: dict | None = None) -> OpenApiResponse:
    return OpenApiResponse(
        ErrorSerializer,
        description=description,
        examples=[OpenApiExample(code, value={"error": {"code": code, "message": message, "fields": fields or {}}})],
    )


READ_ERRORS = {
    400: _error(
        "Invalid query parameters", "invalid_request", "invalid fields: state", {"state": '"x" is not a valid choice.'}
    ),
    401: _error(
        "Missing, unknown or revoked key", "not_authenticated", "Authentication credentials were not provided."
    ),
    404: _error("No such object for this partner", "not_found", "not found"),
    409: _error("The object's state forbids it", "loan_not_open", "loan: the loan is paid_off"),
    413: _error("Body over 64 KiB", "payload_too_large", "the request body must not exceed 65536 bytes"),
    422: _error("A business rule refused the request", "date_in_past", "date: must not be before the business date"),
    429: _error("Rate limit reached; see Retry-After", "throttled", "Request was throttled."),
}
WRITE_ERRORS = {
    **READ_ERRORS,
    400: _error("Invalid fields", "invalid_request", "invalid fields: amount", {"amount": "must be greater than zero"}),
    409: _error(
        "Key in flight, or the object's state forbids it",
        "idempotency_key_in_flight",
        "a request with this key is still being processed",
    ),
    415: _error("Not JSON", "unsupported_media_type", 'Unsupported media type "text/plain" in request.'),
    422: _error(
        "A business rule refused it, or the key was used for another request",
        "exceeds_available_limit",
        "amount: exceeds the available limit 8000.00",
        {"amount": "exceeds the available limit 8000.00"},
    ),
}

BORROWER_EXAMPLES = [
    OpenApiExample(
        "person",
        request_only=True,
        value={
            "kind": "person", "name": "张三", "national_id": "11010119900101001X", "mobile": "13812340001",
            "monthly_income": "12000.00", "external_reference": "user-881",
        },
    ),
    OpenApiExample(
        "business",
        request_only=True,
        value={
            "kind": "business", "name": "杭州小店", "credit_code": "91330106MA2AXXXX0X", "mobile": "13812340002",
            "legal_representative": "李四", "business_type": "retail", "business_start_date": "2020-05-01",
        },
    ),
    OpenApiExample(
        "created",
        response_only=True,
        status_codes=["201"],
        value={
            "id": 42, "kind": "person", "name": "张*", "national_id_masked": "1101**********001X",
            "mobile_masked": "138****0001", "credit_code_masked": "", "external_reference": "user-881",
            "created_at": "2031-01-15T10:00:00+08:00",
        },
    ),
]  # fmt: skip

QUOTE_EXAMPLES = [
    OpenApiExample(
        "on a line", request_only=True,
        value={"amount": "12000.00", "term_months": 12, "method": "equal_installment", "credit_line_id": 7},
    ),
    OpenApiExample(
        "at a rate", request_only=True,
        value={"amount": "5000.00", "term_months": 6, "method": "equal_principal", "daily_rate": "0.0004"},
    ),
    OpenApiExample(
        "quote", response_only=True, status_codes=["200"],
        value={
            "amount": "5000.00", "term_months": 3, "method": "equal_principal", "daily_rate": "0.00040000",
            "start_date": "2031-01-15",
            "schedule": [
                {"number": 1, "start_date": "2031-01-15", "due_date": "2031-02-15", "days": 31,
                 "opening_principal": "5000.00", "principal": "1666.67", "interest": "62.00", "fee": "0.00",
                 "total": "1728.67"},
            ],
            "totals": {"principal": "5000.00", "interest": "121.60", "fee": "0.00", "total": "5121.60"},
            "nominal_apr": "0.14590000", "effective_apr": "0.15600000", "apr_cap": "0.24000000",
        },
    ),
]  # fmt: skip

DRAWDOWN_EXAMPLES = [
    OpenApiExample(
        "drawdown", request_only=True, value={"amount": "12000.00", "term_months": 12, "method": "equal_installment"}
    ),
    OpenApiExample(
        "loan", response_only=True, status_codes=["201"],
        value={
            "id": 9, "number": "LN3F2A9C0D1E2B4A", "credit_line_id": 7, "borrower_id": 42, "state": "current",
            "principal": "12000.00", "term_months": 12, "method": "equal_installment", "daily_rate": "0.00040000",
            "nominal_apr": "0.14600000", "effective_apr": "0.15630000", "requested_on": "2031-01-15",
            "disbursed_on": "2031-01-15", "closed_on": None, "overdue_since": None, "dpd_bucket": "M0",
            "principal_outstanding": "12000.00", "interest_outstanding": "0.00", "fee_outstanding": "0.00",
            "penalty_outstanding": "0.00", "total_outstanding": "12000.00",
        },
    ),
]  # fmt: skip

REPAYMENT_EXAMPLES = [
    OpenApiExample("repayment", request_only=True, value={"amount": "1082.35", "source_reference": "alipay-2031-77"}),
    OpenApiExample(
        "received", response_only=True, status_codes=["201"],
        value={
            "id": 31, "loan_id": 9, "amount": "1082.35", "value_date": "2031-02-15", "channel": "partner",
            "source_reference": "alipay-2031-77", "after_close": False, "received_at": "2031-02-15T09:12:00+08:00",
        },
    ),
]  # fmt: skip


def _response(name: str, value) -> list[OpenApiExample]:
    return [OpenApiExample(name, value=value, response_only=True, status_codes=["200"])]


LOAN = DRAWDOWN_EXAMPLES[1].value
BORROWER = BORROWER_EXAMPLES[2].value
CREDIT_LINE = {
    "id": 7, "borrower_id": 42, "product": "revolving-cash-line", "state": "active", "limit": "50000.00",
    "used": "12000.00", "available": "38000.00", "daily_rate": "0.00040000", "valid_from": "2031-01-15",
    "valid_until": "2032-01-15", "created_at": "2031-01-15T10:00:00+08:00",
}  # fmt: skip


BORROWER_RESPONSE = _response("borrower", BORROWER)
BORROWER_LIST_RESPONSE = _response("page", BORROWER)  # spectacular wraps it in a page
CREDIT_LINE_RESPONSE = _response("credit line", CREDIT_LINE)
CREDIT_LINE_LIST_RESPONSE = _response("page", CREDIT_LINE)
LOAN_RESPONSE = _response("loan", LOAN)
LOAN_LIST_RESPONSE = _response("page", LOAN)
SCHEDULE_RESPONSE = _response(
    "schedule",
    {
        "loan_id": 9,
        "installments": [
            {
                "number": 1, "start_date": "2031-01-15", "due_date": "2031-02-15", "state": "scheduled",
                "principal": "934.57", "interest": "148.80", "fee": "0.00", "penalty": "0.00",
                "principal_paid": "0.00", "interest_paid": "0.00", "fee_paid": "0.00", "penalty_paid": "0.00",
                "paid_on": None,
            }
        ],
    },
)  # fmt: skip
PAYOFF_RESPONSE = _response("payoff", {"loan_id": 9, "date": "2031-02-01", "amount": "12081.60"})

APPLICATION = {
    "id": 15, "borrower_id": 42, "credit_line_id": 7, "state": "approved", "decision": "approve",
    "requested_amount": "50000.00", "limit": "48000.00", "daily_rate": "0.00030000", "reasons": [],
    "external_reference": "acme-app-2031-15", "submitted_on": "2031-01-15", "decided_on": "2031-01-15",
    "created_at": "2031-01-15T10:00:00+08:00",
}  # fmt: skip
APPLICATION_EXAMPLES = [
    OpenApiExample(
        "application", request_only=True,
        value={
            "borrower_id": 42, "requested_amount": "50000.00", "external_reference": "acme-app-2031-15",
            "consent": {"at": "2031-01-15T09:58:00+08:00", "scope": "credit bureau query for this application"},
            "data": {
                "credit_score": 760, "monthly_income": "12000.00", "monthly_obligations": "1000.00",
                "months_on_platform": 48, "other_lenders": 0, "identity_verified": True, "device_verified": True,
            },
        },
    ),
    OpenApiExample("approved", response_only=True, status_codes=["201"], value=APPLICATION),
    OpenApiExample(
        "declined", response_only=True, status_codes=["201"],
        value={
            **APPLICATION, "credit_line_id": None, "state": "declined", "decision": "decline", "limit": None,
            "daily_rate": None,
            "reasons": [{"code": "credit_score_low", "message": "The credit score is below our minimum."}],
        },
    ),
]  # fmt: skip
APPLICATION_RESPONSE = _response("application", APPLICATION)
APPLICATION_LIST_RESPONSE = _response("page", APPLICATION)
