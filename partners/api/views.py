"""The partner REST API v1: thin views over lending's services, every object scoped to the calling partner.

An id that is not the partner's answers 404 exactly like one that does not
exist: each read goes through the partner-scoped querysets in selectors.
"""

from datetime import timedelta

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

from core.business_date import business_date_current
from core.errors import DomainError
from lending.models import Borrower, CreditLine, Installment, Product
from lending.services.borrowers import borrower_onboard_business, borrower_onboard_person
from lending.services.loans import drawdown_quote
from lending.services.repayments import payoff_quote, repayment_post
from partners import selectors
from partners.api import docs
from partners.api import serializers as s
from partners.api.base import PartnerApiView, idempotent
from payments.services.disbursements import drawdown_disburse
from underwriting.features import application_data_clean
from underwriting.services import application_submit

PAYOFF_QUOTE_HORIZON = timedelta(days=366)


class Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200
    # Past this an offset is beyond any list; capped so the database never sees an out-of-range integer.
    max_offset = 10**9

    def get_offset(self, request):
        return min(super().get_offset(request), self.max_offset)


class ListView(PartnerApiView):
    pagination_class = Pagination
    serializer_class = None

    def paginated(self, queryset, serializer_class):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)


def _query(serializer_class, request) -> dict:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


class BorrowersView(ListView):
    @extend_schema(
        operation_id="borrowers_create", request=s.BorrowerCreateSerializer,
        responses={201: s.BorrowerSerializer, **docs.WRITE_ERRORS}, parameters=[docs.IDEMPOTENCY_KEY],
        examples=docs.BORROWER_EXAMPLES,
    )  # fmt: skip
    @idempotent
    def post(self, request, *, idempotency_key):
        data = _validated(s.BorrowerCreateSerializer, request)
        today = business_date_current()
        common = {"partner": self.partner, "name": data["name"], "mobile": data["mobile"], "today": today}
        common["external_reference"] = data["external_reference"]
        if data["kind"] == Borrower.Kind.PERSON:
            borrower = borrower_onboard_person(
                national_id=data["national_id"], monthly_income=data.get("monthly_income"), **common
            )
        else:
            borrower = borrower_onboard_business(
                credit_code=data["credit_code"],
                legal_representative=data["legal_representative"],
                business_type=data["business_type"],
                business_start_date=data["business_start_date"],
                **common,
            )
        return Response(s.BorrowerSerializer(borrower).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="borrowers_list", parameters=[s.DateRangeQuerySerializer],
        responses={200: s.BorrowerSerializer(many=True), **docs.READ_ERRORS}, examples=docs.BORROWER_LIST_RESPONSE,
    )  # fmt: skip
    def get(self, request):
        query = _query(s.DateRangeQuerySerializer, request)
        borrowers = selectors.borrower_list(partner=self.partner, **query)
        return self.paginated(borrowers, s.BorrowerSerializer)


class BorrowerView(PartnerApiView):
    @extend_schema(
        operation_id="borrowers_retrieve", responses={200: s.BorrowerSerializer, **docs.READ_ERRORS},
        examples=docs.BORROWER_RESPONSE,
    )  # fmt: skip
    def get(self, request, pk):
        return Response(s.BorrowerSerializer(get_object_or_404(selectors.borrowers(self.partner), pk=pk)).data)


class CreditLinesView(ListView):
    @extend_schema(
        operation_id="credit_lines_list", parameters=[s.CreditLineQuerySerializer],
        responses={200: s.CreditLineSerializer(many=True), **docs.READ_ERRORS},
        examples=docs.CREDIT_LINE_LIST_RESPONSE,
    )  # fmt: skip
    def get(self, request):
        query = _query(s.CreditLineQuerySerializer, request)
        return self.paginated(selectors.credit_line_list(partner=self.partner, **query), s.CreditLineSerializer)


class CreditLineView(PartnerApiView):
    @extend_schema(
        operation_id="credit_lines_retrieve", responses={200: s.CreditLineSerializer, **docs.READ_ERRORS},
        examples=docs.CREDIT_LINE_RESPONSE,
    )  # fmt: skip
    def get(self, request, pk):
        return Response(s.CreditLineSerializer(get_object_or_404(selectors.credit_lines(self.partner), pk=pk)).data)


class QuoteView(PartnerApiView):
    @extend_schema(
        operation_id="quotes_create", request=s.QuoteRequestSerializer,
        responses={200: s.QuoteSerializer, **docs.WRITE_ERRORS}, examples=docs.QUOTE_EXAMPLES,
        description="A schedule and all-in APR for a drawdown on a line (its rate and product rules) or at a "
        "daily rate on the default product. No side effects and no Idempotency-Key.",
    )  # fmt: skip
    def post(self, request):
        data = _validated(s.QuoteRequestSerializer, request)
        today = business_date_current()
        if "credit_line_id" in data:
            line = get_object_or_404(selectors.credit_lines(self.partner), pk=data["credit_line_id"])
        else:
            product = Product.objects.filter(is_active=True).order_by("pk").first()
            if product is None:
                raise DomainError("no_product", "no product is open", field="daily_rate")
            if not product.min_daily_rate <= data["daily_rate"] <= product.max_daily_rate:
                raise DomainError(
                    "rate_out_of_range",
                    f"must be between {product.min_daily_rate} and {product.max_daily_rate} per day",
                    field="daily_rate",
                )
            # A line that is never saved: the quote needs its product, rate and partner (for insurance pricing).
            line = CreditLine(product=product, daily_rate=data["daily_rate"], borrower=Borrower(partner=self.partner))
        quote = drawdown_quote(
            credit_line=line,
            amount=data["amount"],
            term_months=data["term_months"],
            method=data["method"],
            start_date=today,
        )
        body = {
            "amount": quote.totals.principal,
            "term_months": data["term_months"],
            "method": data["method"],
            "daily_rate": line.daily_rate,
            "start_date": today,
            "schedule": quote.lines,
            "totals": quote.totals,
            "nominal_apr": quote.apr.nominal_annual_rate,
            "effective_apr": quote.apr.effective_annual_rate,
            "apr_cap": line.product.apr_cap,
        }
        return Response(s.QuoteSerializer(body).data)


class DrawdownsView(PartnerApiView):
    @extend_schema(
        operation_id="credit_lines_drawdowns_create", request=s.DrawdownRequestSerializer,
        responses={201: s.LoanSerializer, **docs.WRITE_ERRORS}, parameters=[docs.IDEMPOTENCY_KEY],
        examples=docs.DRAWDOWN_EXAMPLES,
        description="Draw on the line: the loan is created and its disbursement instructed to the payment gateway. "
        "It is disbursed (its schedule starting on the value date) when the gateway confirms: at once with an "
        "in-process gateway, otherwise the loan answers `pending` until then; a failure cancels it.",
    )  # fmt: skip
    @idempotent
    def post(self, request, pk, *, idempotency_key):
        line = get_object_or_404(selectors.credit_lines(self.partner), pk=pk)
        data = _validated(s.DrawdownRequestSerializer, request)
        loan = drawdown_disburse(
            credit_line_id=line.pk,
            amount=data["amount"],
            term_months=data["term_months"],
            method=data["method"],
            idempotency_key=f"api:{idempotency_key}",
        )
        return Response(s.LoanSerializer(selectors.loans(self.partner).get(pk=loan.pk)).data, status=201)


class LoansView(ListView):
    @extend_schema(
        operation_id="loans_list", parameters=[s.LoanQuerySerializer],
        responses={200: s.LoanSerializer(many=True), **docs.READ_ERRORS}, examples=docs.LOAN_LIST_RESPONSE,
    )  # fmt: skip
    def get(self, request):
        query = _query(s.LoanQuerySerializer, request)
        return self.paginated(selectors.loan_list(partner=self.partner, **query), s.LoanSerializer)


class LoanView(PartnerApiView):
    @extend_schema(
        operation_id="loans_retrieve", responses={200: s.LoanSerializer, **docs.READ_ERRORS},
        examples=docs.LOAN_RESPONSE,
    )  # fmt: skip
    def get(self, request, pk):
        return Response(s.LoanSerializer(get_object_or_404(selectors.loans(self.partner), pk=pk)).data)


class LoanScheduleView(PartnerApiView):
    @extend_schema(
        operation_id="loans_schedule", responses={200: s.ScheduleSerializer, **docs.READ_ERRORS},
        examples=docs.SCHEDULE_RESPONSE,
    )  # fmt: skip
    def get(self, request, pk):
        if not selectors.loans(self.partner).filter(pk=pk).exists():
            raise Http404
        # Rows as dicts: the schedule shows stored columns only, and building a dozen model instances cost a third.
        installments = Installment.objects.filter(loan_id=pk).order_by("number")
        rows = installments.values(*s.InstallmentSerializer.Meta.fields)
        return Response(s.ScheduleSerializer({"loan_id": pk, "installments": rows}).data)


class RepaymentsView(PartnerApiView):
    @extend_schema(
        operation_id="loans_repayments_create", request=s.RepaymentRequestSerializer,
        responses={201: s.RepaymentSerializer, **docs.WRITE_ERRORS}, parameters=[docs.IDEMPOTENCY_KEY],
        examples=docs.REPAYMENT_EXAMPLES,
        description="Money the partner collected for the loan, allocated by the product's waterfall; more than "
        "what was due prepays principal; more than the payoff amount is refused.",
    )  # fmt: skip
    @idempotent
    def post(self, request, pk, *, idempotency_key):
        loan = get_object_or_404(selectors.loans(self.partner), pk=pk)
        data = _validated(s.RepaymentRequestSerializer, request)
        repayment = repayment_post(
            loan_id=loan.pk,
            amount=data["amount"],
            source_reference=data["source_reference"],
            idempotency_key=f"api:{idempotency_key}",
        )
        return Response(s.RepaymentSerializer(repayment).data, status=status.HTTP_201_CREATED)


class PayoffQuoteView(PartnerApiView):
    @extend_schema(
        operation_id="loans_payoff_quote",
        parameters=[OpenApiParameter("date", str, description="YYYY-MM-DD; default the business date; ≤ 1 year")],
        responses={200: s.PayoffQuoteSerializer, **docs.READ_ERRORS},
        examples=docs.PAYOFF_RESPONSE,
    )
    def get(self, request, pk):
        loan = get_object_or_404(selectors.loans(self.partner), pk=pk)
        query = _query(s.PayoffQuerySerializer, request)
        today = business_date_current()
        on_date = query.get("date", today)
        if on_date > today + PAYOFF_QUOTE_HORIZON:
            raise DomainError("date_too_far", "must be at most a year after the business date", field="date")
        quote = payoff_quote(loan=loan, on_date=on_date, today=today)
        return Response(s.PayoffQuoteSerializer({"loan_id": loan.pk, "date": on_date, "amount": quote.amount}).data)


class ApplicationsView(ListView):
    @extend_schema(
        operation_id="applications_create", request=s.ApplicationCreateSerializer,
        responses={201: s.ApplicationSerializer, **docs.WRITE_ERRORS}, parameters=[docs.IDEMPOTENCY_KEY],
        examples=docs.APPLICATION_EXAMPLES,
        description="Submit an application for a credit line; it is decided at once: approved (the line is open), "
        "declined (with reasons) or sent to manual review.",
    )  # fmt: skip
    @idempotent
    def post(self, request, *, idempotency_key):
        data = _validated(s.ApplicationCreateSerializer, request)
        borrower = get_object_or_404(selectors.borrowers(self.partner), pk=data["borrower_id"])
        # Checked before the service runs so bad fields answer 400 and leave the key reusable.
        try:
            application_data_clean(data["data"], is_business=borrower.kind == Borrower.Kind.BUSINESS)
        except DomainError as error:
            raise serializers.ValidationError({"data": {error.field: error.message}}) from None
        application = application_submit(
            partner=self.partner,
            borrower=borrower,
            data=data["data"],
            consent_at=data["consent"]["at"],
            consent_scope=data["consent"]["scope"],
            requested_amount=data.get("requested_amount"),
            external_reference=data["external_reference"],
        )
        return Response(s.ApplicationSerializer(application).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="applications_list", parameters=[s.ApplicationQuerySerializer],
        responses={200: s.ApplicationSerializer(many=True), **docs.READ_ERRORS},
        examples=docs.APPLICATION_LIST_RESPONSE,
    )  # fmt: skip
    def get(self, request):
        query = _query(s.ApplicationQuerySerializer, request)
        return self.paginated(selectors.application_list(partner=self.partner, **query), s.ApplicationSerializer)


class ApplicationView(PartnerApiView):
    @extend_schema(
        operation_id="applications_retrieve", responses={200: s.ApplicationSerializer, **docs.READ_ERRORS},
        examples=docs.APPLICATION_RESPONSE,
    )  # fmt: skip
    def get(self, request, pk):
        return Response(s.ApplicationSerializer(get_object_or_404(selectors.applications(self.partner), pk=pk)).data)


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
