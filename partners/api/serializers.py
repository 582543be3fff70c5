"""Request and response shapes of the partner API. Personal data leaves only masked."""

import copy

from rest_framework import serializers

from lending.models import Borrower, CreditLine, Installment, Loan, Repayment
from partners.api.fields import AmountField, DailyRateField
from underwriting.models import DECISIONS, Application

MONEY = {"max_digits": 18, "decimal_places": 2, "read_only": True}
RATE = {"max_digits": 12, "decimal_places": 8, "read_only": True}
METHODS = Loan._meta.get_field("method").choices


class ResponseSerializer(serializers.ModelSerializer):
    """A read-only response shape whose fields are built from the model once per class.

    ModelSerializer introspects the model for every instance it makes, a third of a
    GET's time; these shapes take no per-request options, so each instance gets a
    copy of the fields built the first time (a copy, because binding mutates them).
    A plain field's binding sets only its own attributes, so a shallow copy does;
    a nested serializer carries bound children of its own and is copied deeply.
    Deep-copying every field cost a fifth of a GET.
    """

    _fields_by_class: dict[type, dict] = {}

    def get_fields(self):
        built = self._fields_by_class.get(type(self))
        if built is None:
            built = self._fields_by_class[type(self)] = super().get_fields()
        return {
            name: copy.deepcopy(field) if isinstance(field, serializers.BaseSerializer) else copy.copy(field)
            for name, field in built.items()
        }


def mask_name(name: str) -> str:
    return name[:1] + "*" * (len(name) - 1)


# --- borrowers -------------------------------------------------------------------------------------


class BorrowerCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Borrower.Kind.choices)
    name = serializers.CharField(max_length=120)
    mobile = serializers.CharField(max_length=20)
    external_reference = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    national_id = serializers.CharField(max_length=18, required=False, help_text="person: resident id (18 characters)")
    monthly_income = AmountField(required=False, allow_null=True, help_text="person: optional")
    credit_code = serializers.CharField(max_length=18, required=False, help_text="business: unified social credit code")
    legal_representative = serializers.CharField(max_length=120, required=False, help_text="business")
    business_type = serializers.CharField(max_length=60, required=False, help_text="business")
    business_start_date = serializers.DateField(required=False, help_text="business")

    REQUIRED = {
        Borrower.Kind.PERSON: ["national_id"],
        Borrower.Kind.BUSINESS: ["credit_code", "legal_representative", "business_type", "business_start_date"],
    }

    def validate(self, attrs):
        missing = {
            name: "is required for a " + attrs["kind"] for name in self.REQUIRED[attrs["kind"]] if name not in attrs
        }
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class BorrowerSerializer(ResponseSerializer):
    name = serializers.SerializerMethodField(help_text="masked")

    class Meta:
        model = Borrower
        fields = [
            "id", "kind", "name", "national_id_masked", "mobile_masked", "credit_code_masked",
            "external_reference", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_name(self, borrower) -> str:
        return mask_name(borrower.name)


# --- credit lines ----------------------------------------------------------------------------------


class CreditLineSerializer(ResponseSerializer):
    borrower_id = serializers.IntegerField(read_only=True)
    product = serializers.CharField(source="product.code", read_only=True)
    limit = serializers.DecimalField(**MONEY)
    used = serializers.DecimalField(**MONEY)
    available = serializers.DecimalField(**MONEY)
    daily_rate = serializers.DecimalField(**RATE)

    class Meta:
        model = CreditLine
        fields = [
            "id", "borrower_id", "product", "state", "limit", "used", "available", "daily_rate",
            "valid_from", "valid_until", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


# --- quotes ----------------------------------------------------------------------------------------


class QuoteRequestSerializer(serializers.Serializer):
    amount = AmountField()
    term_months = serializers.IntegerField(min_value=1, max_value=120)
    method = serializers.ChoiceField(choices=METHODS)
    credit_line_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    daily_rate = DailyRateField(required=False, help_text="instead of credit_line_id: price at this rate")

    def validate(self, attrs):
        if ("credit_line_id" in attrs) == ("daily_rate" in attrs):
            raise serializers.ValidationError({"credit_line_id": "give exactly one of credit_line_id and daily_rate"})
        return attrs


class ScheduleLineSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    start_date = serializers.DateField()
    due_date = serializers.DateField()
    days = serializers.IntegerField()
    opening_principal = serializers.DecimalField(**MONEY)
    principal = serializers.DecimalField(**MONEY)
    interest = serializers.DecimalField(**MONEY)
    fee = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(**MONEY)


class TotalsSerializer(serializers.Serializer):
    principal = serializers.DecimalField(**MONEY)
    interest = serializers.DecimalField(**MONEY)
    fee = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(**MONEY)


class QuoteSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY)
    term_months = serializers.IntegerField()
    method = serializers.CharField()
    daily_rate = serializers.DecimalField(**RATE)
    start_date = serializers.DateField()
    schedule = ScheduleLineSerializer(many=True)
    totals = TotalsSerializer()
    nominal_apr = serializers.DecimalField(**RATE, help_text="all-in: periodic IRR × 12")
    effective_apr = serializers.DecimalField(**RATE, help_text="(1 + periodic IRR)^12 − 1")
    apr_cap = serializers.DecimalField(**RATE)


# --- loans -----------------------------------------------------------------------------------------


class DrawdownRequestSerializer(serializers.Serializer):
    amount = AmountField()
    term_months = serializers.IntegerField(min_value=1, max_value=120)
    method = serializers.ChoiceField(choices=METHODS)


class LoanSerializer(ResponseSerializer):
    credit_line_id = serializers.IntegerField(read_only=True)
    borrower_id = serializers.IntegerField(read_only=True)
    principal = serializers.DecimalField(**MONEY)
    daily_rate = serializers.DecimalField(**RATE)
    nominal_apr = serializers.DecimalField(**RATE)
    effective_apr = serializers.DecimalField(**RATE)
    principal_outstanding = serializers.DecimalField(**MONEY)
    interest_outstanding = serializers.DecimalField(**MONEY)
    fee_outstanding = serializers.DecimalField(**MONEY)
    penalty_outstanding = serializers.DecimalField(**MONEY)
    total_outstanding = serializers.DecimalField(**MONEY)

    class Meta:
        model = Loan
        fields = [
            "id", "number", "credit_line_id", "borrower_id", "state", "principal", "term_months", "method",
            "daily_rate", "nominal_apr", "effective_apr", "requested_on", "disbursed_on", "closed_on",
            "overdue_since", "dpd_bucket", "principal_outstanding", "interest_outstanding", "fee_outstanding",
            "penalty_outstanding", "total_outstanding",
        ]  # fmt: skip
        read_only_fields = fields


class InstallmentSerializer(ResponseSerializer):
    principal = serializers.DecimalField(**MONEY)
    interest = serializers.DecimalField(**MONEY)
    fee = serializers.DecimalField(**MONEY)
    penalty = serializers.DecimalField(**MONEY)
    principal_paid = serializers.DecimalField(**MONEY)
    interest_paid = serializers.DecimalField(**MONEY)
    fee_paid = serializers.DecimalField(**MONEY)
    penalty_paid = serializers.DecimalField(**MONEY)

    class Meta:
        model = Installment
        fields = [
            "number", "start_date", "due_date", "state", "principal", "interest", "fee", "penalty",
            "principal_paid", "interest_paid", "fee_paid", "penalty_paid", "paid_on",
        ]  # fmt: skip
        read_only_fields = fields


class ScheduleSerializer(serializers.Serializer):
    loan_id = serializers.IntegerField()
    installments = InstallmentSerializer(many=True)


class RepaymentRequestSerializer(serializers.Serializer):
    amount = AmountField()
    source_reference = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)


class RepaymentSerializer(ResponseSerializer):
    loan_id = serializers.IntegerField(read_only=True)
    amount = serializers.DecimalField(**MONEY)

    class Meta:
        model = Repayment
        fields = ["id", "loan_id", "amount", "value_date", "channel", "source_reference", "after_close", "received_at"]
        read_only_fields = fields


class PayoffQuoteSerializer(serializers.Serializer):
    loan_id = serializers.IntegerField()
    date = serializers.DateField()
    amount = serializers.DecimalField(**MONEY)


# --- query parameters ------------------------------------------------------------------------------


class BoundedDateField(serializers.DateField):
    """A date in a sane range: year 1 or 9999 would overflow time-zone arithmetic in the queries."""

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not 1900 <= day.year <= 2999:
            raise serializers.ValidationError("must be between 1900-01-01 and 2999-12-31", code="date_out_of_range")
        return day


class DateRangeQuerySerializer(serializers.Serializer):
    created_from = BoundedDateField(required=False)
    created_to = BoundedDateField(required=False)


class CreditLineQuerySerializer(serializers.Serializer):
    borrower_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    state = serializers.ChoiceField(choices=CreditLine.State.choices, required=False)


class LoanQuerySerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=Loan.State.choices, required=False)
    borrower_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    credit_line_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    requested_from = BoundedDateField(required=False)
    requested_to = BoundedDateField(required=False)


class ApplicationQuerySerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=Application.State.choices, required=False)
    decision = serializers.ChoiceField(choices=sorted(DECISIONS), required=False, help_text="the automated decision")
    borrower_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    submitted_from = BoundedDateField(required=False)
    submitted_to = BoundedDateField(required=False)


class PayoffQuerySerializer(serializers.Serializer):
    date = BoundedDateField(required=False, help_text="default: the business date; at most a year ahead")


# --- applications ----------------------------------------------------------------------------------


class ConsentSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="when the borrower consented to the credit-data query")
    scope = serializers.CharField(max_length=200, help_text="what the borrower consented to")


class ApplicationCreateSerializer(serializers.Serializer):
    borrower_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    requested_amount = AmountField(required=False, allow_null=True)
    consent = ConsentSerializer()
    external_reference = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    data = serializers.DictField(
        help_text="credit_score, monthly_income (required), monthly_inflow, monthly_outflow, months_on_platform, "
        "existing_debt, monthly_obligations, other_lenders, identity_verified (required), device_verified, device_id, "
        "delinquent_elsewhere; amounts as decimal strings"
    )


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ApplicationSerializer(ResponseSerializer):
    decision = serializers.CharField(source="automated_decision", help_text="approve, manual_review or decline")
    limit = serializers.DecimalField(source="offered_limit", allow_null=True, **MONEY)
    daily_rate = serializers.DecimalField(source="offered_rate", allow_null=True, **RATE)
    reasons = ReasonSerializer(many=True, read_only=True)

    class Meta:
        model = Application
        fields = [
            "id", "borrower_id", "credit_line_id", "state", "decision", "requested_amount", "limit", "daily_rate",
            "reasons", "external_reference", "submitted_on", "decided_on", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.CharField())


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
