"""Request and response shapes of the money-movement endpoints. Account numbers leave only masked."""

from rest_framework import serializers

from partners.api.fields import AmountField
from partners.api.serializers import MONEY, mask_name
from payments.models import CallbackLog, Debit, Disbursement, PaymentAccount

REPORT_STATUSES = [("confirmed", "Confirmed"), ("failed", "Failed")]


class PaymentAccountCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PaymentAccount.Kind.choices)
    bank = serializers.CharField(max_length=60, help_text="Issuing bank, or the wallet provider")
    number = serializers.CharField(max_length=64, help_text="Card number (Luhn-checked) or wallet account")
    holder_name = serializers.CharField(max_length=120, help_text="Must be the borrower's name")
    for_disbursement = serializers.BooleanField(required=False, default=False)
    debit_priority = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=20, help_text="1 is debited first"
    )


class PaymentAccountSerializer(serializers.ModelSerializer):
    borrower_id = serializers.IntegerField(read_only=True)
    holder_name = serializers.SerializerMethodField()

    class Meta:
        model = PaymentAccount
        fields = [
            "id", "borrower_id", "kind", "bank", "number_masked", "holder_name", "for_disbursement",
            "debit_priority", "is_active", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_holder_name(self, account) -> str:
        return mask_name(account.holder_name)


class DisbursementSerializer(serializers.ModelSerializer):
    loan_id = serializers.IntegerField(read_only=True)
    amount = serializers.DecimalField(**MONEY)

    class Meta:
        model = Disbursement
        fields = [
            "id", "loan_id", "reference", "gateway", "amount", "state", "gateway_reference", "value_date",
            "failure_reason", "attempts", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class DebitSerializer(serializers.ModelSerializer):
    loan_id = serializers.IntegerField(read_only=True)
    account_id = serializers.IntegerField(read_only=True)
    amount = serializers.DecimalField(**MONEY)
    repayment_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Debit
        fields = [
            "id", "loan_id", "account_id", "reference", "gateway", "amount", "business_date", "round", "state",
            "gateway_reference", "failure_reason", "repayment_id", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class PartnerReportSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=REPORT_STATUSES)
    amount = AmountField(help_text="Must equal the instructed amount")
    gateway_reference = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    value_date = serializers.DateField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class GatewayCallbackSerializer(serializers.Serializer):
    """Documentation of a gateway callback body; the view verifies the signature over the raw bytes."""

    reference = serializers.CharField(max_length=40, help_text="Our instruction reference")
    status = serializers.ChoiceField(choices=REPORT_STATUSES)
    amount = serializers.CharField(help_text='Decimal string, e.g. "12000.00"')
    gateway_reference = serializers.CharField(max_length=100, required=False)
    value_date = serializers.DateField(required=False, allow_null=True)
    reason = serializers.CharField(max_length=200, required=False)


class CallbackResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = CallbackLog
        fields = ["id", "reference", "status", "outcome", "detail"]
        read_only_fields = fields
