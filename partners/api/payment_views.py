"""Money-movement endpoints: a borrower's payment accounts, instructions and partner-channel reports, and
gateway callbacks.

Partner endpoints are scoped like the rest of the API (another partner's id
answers 404). Gateway callbacks carry no Bearer key: the gateway's signature
over the raw body authenticates them, and every one, applied or refused, is
recorded in the callback log.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import DomainError
from partners import selectors
from partners.api import docs
from partners.api import payment_serializers as s
from partners.api.base import MAX_BODY_BYTES, PartnerApiView, idempotent
from partners.api.errors import error_body
from partners.api.serializers import ErrorSerializer
from payments.gateways import gateway_get
from payments.gateways.base import CallbackRefused, Report
from payments.gateways.partner_channel import PartnerChannelGateway
from payments.models import CallbackLog, Debit, Disbursement
from payments.selectors import payment_accounts
from payments.services.accounts import payment_account_add
from payments.services.reports import callback_refused_record, report_apply

REFUSAL_STATUS = {
    "bad_signature": status.HTTP_401_UNAUTHORIZED,
    "unknown_gateway": status.HTTP_404_NOT_FOUND,
    "unknown_reference": status.HTTP_404_NOT_FOUND,
    "amount_mismatch": status.HTTP_422_UNPROCESSABLE_ENTITY,
    "payload_too_large": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
}


def _result_response(log: CallbackLog) -> Response:
    if log.outcome == CallbackLog.Outcome.REFUSED:
        code, _, message = log.detail.partition(": ")
        return Response(error_body(code, message), status=REFUSAL_STATUS.get(code, status.HTTP_400_BAD_REQUEST))
    return Response(s.CallbackResultSerializer(log).data)


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PaymentAccountsView(PartnerApiView):
    @extend_schema(
        operation_id="borrowers_payment_accounts_list",
        responses={200: s.PaymentAccountSerializer(many=True), **docs.READ_ERRORS},
    )
    def get(self, request, pk):
        borrower = get_object_or_404(selectors.borrowers(self.partner), pk=pk)
        return Response(s.PaymentAccountSerializer(payment_accounts(borrower_id=borrower.pk), many=True).data)

    @extend_schema(
        operation_id="borrowers_payment_accounts_create", request=s.PaymentAccountCreateSerializer,
        responses={201: s.PaymentAccountSerializer, **docs.WRITE_ERRORS}, parameters=[docs.IDEMPOTENCY_KEY],
        description="Add a wallet account or bank card of the borrower; the holder must be the borrower. "
        "`for_disbursement` makes it the payout account; `debit_priority` places it in the auto-debit order.",
    )  # fmt: skip
    @idempotent
    def post(self, request, pk, *, idempotency_key):
        borrower = get_object_or_404(selectors.borrowers(self.partner), pk=pk)
        data = _validated(s.PaymentAccountCreateSerializer, request)
        account = payment_account_add(borrower_id=borrower.pk, **data)
        return Response(s.PaymentAccountSerializer(account).data, status=status.HTTP_201_CREATED)


def _partner_channel_only(instruction) -> None:
    if not isinstance(gateway_get(instruction.gateway), PartnerChannelGateway):
        raise DomainError(
            "not_partner_channel", f"this instruction goes through {instruction.gateway}, not the partner", field="id"
        )


def _partner_report(instruction, data) -> Response:
    _partner_channel_only(instruction)
    report = Report(
        instruction.reference,
        data["status"],
        data["amount"],
        data["gateway_reference"],
        data["value_date"],
        data["reason"],
    )
    return _result_response(report_apply(gateway_code=instruction.gateway, report=report, source="partner"))


REPORT_RESPONSES = {200: s.CallbackResultSerializer, **docs.WRITE_ERRORS}


class DisbursementView(PartnerApiView):
    @extend_schema(
        operation_id="loans_disbursement_retrieve", responses={200: s.DisbursementSerializer, **docs.READ_ERRORS}
    )
    def get(self, request, pk):
        loan = get_object_or_404(selectors.loans(self.partner), pk=pk)
        return Response(s.DisbursementSerializer(get_object_or_404(Disbursement, loan=loan)).data)


class DisbursementReportView(PartnerApiView):
    @extend_schema(
        operation_id="loans_disbursement_report", request=s.PartnerReportSerializer, responses=REPORT_RESPONSES,
        parameters=[docs.IDEMPOTENCY_KEY],
        description="Partner channel only: the partner paid the loan out (confirmed, with the value date) or "
        "could not (failed: the loan is cancelled). A repeat or a contradiction has no second effect.",
    )  # fmt: skip
    @idempotent
    def post(self, request, pk, *, idempotency_key):
        loan = get_object_or_404(selectors.loans(self.partner), pk=pk)
        disbursement = get_object_or_404(Disbursement, loan=loan)
        return _partner_report(disbursement, _validated(s.PartnerReportSerializer, request))


class DebitsView(PartnerApiView):
    @extend_schema(operation_id="loans_debits_list", responses={200: s.DebitSerializer(many=True), **docs.READ_ERRORS})
    def get(self, request, pk):
        loan = get_object_or_404(selectors.loans(self.partner), pk=pk)
        return Response(s.DebitSerializer(loan.debits.order_by("pk"), many=True).data)


class DebitReportView(PartnerApiView):
    @extend_schema(
        operation_id="loans_debits_report", request=s.PartnerReportSerializer, responses=REPORT_RESPONSES,
        parameters=[docs.IDEMPOTENCY_KEY],
        description="Partner channel only: the partner collected the debit (confirmed: a repayment is posted "
        "through the waterfall) or could not (failed).",
    )  # fmt: skip
    @idempotent
    def post(self, request, pk, debit_id, *, idempotency_key):
        loan = get_object_or_404(selectors.loans(self.partner), pk=pk)
        debit = get_object_or_404(Debit, loan=loan, pk=debit_id)
        return _partner_report(debit, _validated(s.PartnerReportSerializer, request))


class GatewayCallbackView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        operation_id="payments_callbacks_create", request=s.GatewayCallbackSerializer, auth=[],
        responses={
            200: s.CallbackResultSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Malformed body"),
            401: OpenApiResponse(ErrorSerializer, description="Bad or missing signature"),
            404: OpenApiResponse(ErrorSerializer, description="Unknown gateway or reference"),
            413: OpenApiResponse(ErrorSerializer, description="Body over 64 KiB"),
            422: OpenApiResponse(ErrorSerializer, description="Amount differs from the instruction"),
        },
        description="A gateway reports the result of an instruction, signed (HMAC-SHA256 of the raw body in "
        "`X-Gateway-Signature`). Idempotent by reference; out-of-order and repeated reports have one effect. "
        "Every callback, applied or refused, is recorded.",
    )  # fmt: skip
    def post(self, request, gateway):
        body = request.body
        try:
            if len(body) > MAX_BODY_BYTES:
                raise CallbackRefused("payload_too_large", f"the body must not exceed {MAX_BODY_BYTES} bytes")
            try:
                adapter = gateway_get(gateway)
            except DomainError as error:
                raise CallbackRefused(error.code, error.message) from None
            report = adapter.parse_callback(body=body, headers=request.headers)
        except CallbackRefused as refused:
            log = callback_refused_record(
                gateway_code=gateway, source="callback", code=refused.code, reason=refused.reason, body=body
            )
            return _result_response(log)
        return _result_response(report_apply(gateway_code=gateway, report=report, source="callback", body=body))
