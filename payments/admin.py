"""Admin screens of money movement: accounts (added through the service), instructions, callbacks, settlement.

Instructions and callbacks are written only by services and shown read-only;
a settlement break is resolved here by writing what was done, which the
service records with the user and time.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core.errors import DomainError
from lending.admin import ReadOnlyAdminMixin, ReadOnlyInline
from payments.models import CallbackLog, Debit, Disbursement, PaymentAccount, SettlementBreak, SettlementReport
from payments.services.accounts import payment_account_add
from payments.services.disbursements import disbursement_send
from payments.services.settlement import settlement_break_resolve


class PaymentAccountAddForm(forms.ModelForm):
    number = forms.CharField(max_length=64, help_text=_("Card number or wallet account; stored encrypted"))

    class Meta:
        model = PaymentAccount
        fields = ["borrower", "kind", "bank", "number", "holder_name", "for_disbursement", "debit_priority"]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.instance = payment_account_add(
                borrower_id=data["borrower"].pk,
                kind=data["kind"],
                bank=data["bank"],
                number=data["number"],
                holder_name=data["holder_name"],
                for_disbursement=data.get("for_disbursement", False),
                debit_priority=data.get("debit_priority"),
            )
        except DomainError as error:
            raise ValidationError(
                {error.field: error.message} if error.field in self.fields else error.message
            ) from None
        return data


@admin.register(PaymentAccount)
class PaymentAccountAdmin(SimpleHistoryAdmin):
    list_display = [
        "id",
        "borrower",
        "kind",
        "bank",
        "number_masked",
        "for_disbursement",
        "debit_priority",
        "is_active",
    ]
    list_filter = ["kind", "for_disbursement", "is_active"]
    search_fields = ["=borrower__id", "bank", "number_masked"]
    raw_id_fields = ["borrower"]
    readonly_fields = [
        "borrower", "kind", "bank", "number_masked", "holder_name", "for_disbursement", "debit_priority", "created_at",
    ]  # fmt: skip
    exclude = ["number_encrypted", "number_hash"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = PaymentAccountAddForm
            kwargs["fields"] = PaymentAccountAddForm.Meta.fields
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            obj._change_reason = "deactivated" if not obj.is_active else "reactivated"
            super().save_model(request, obj, form, change)
        # A new account was saved by the service in the form's clean().

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Disbursement)
class DisbursementAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["reference", "loan", "gateway", "amount", "state", "value_date", "attempts", "needs_review"]
    list_filter = ["state", "gateway", "needs_review"]
    search_fields = ["reference", "gateway_reference", "loan__number"]
    actions = ["chase"]

    def has_chase_permission(self, request):
        # The rows are read-only here; re-instructing is a finance action on the instruction.
        return request.user.has_perm("payments.change_disbursement")

    @admin.action(description=_("Re-instruct now (same reference)"), permissions=["chase"])
    def chase(self, request, queryset):
        for disbursement in queryset.filter(state__in=[Disbursement.State.PENDING, Disbursement.State.SENT]):
            disbursement_send(disbursement_id=disbursement.pk)
        self.message_user(request, _("Re-instructed the selected open disbursements."), messages.SUCCESS)


@admin.register(Debit)
class DebitAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["reference", "loan", "account", "amount", "business_date", "round", "state", "needs_review"]
    list_filter = ["state", "gateway", "needs_review", "business_date"]
    search_fields = ["reference", "gateway_reference", "loan__number"]


@admin.register(CallbackLog)
class CallbackLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["received_at", "gateway", "source", "reference", "status", "outcome", "detail"]
    list_filter = ["outcome", "gateway", "source"]
    search_fields = ["reference", "gateway_reference"]


class SettlementBreakInline(ReadOnlyInline):
    model = SettlementBreak
    fields = ["kind", "reference", "our_amount", "their_amount", "resolved_at", "resolved_by", "resolution"]


@admin.register(SettlementReport)
class SettlementReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["settlement_date", "gateway", "lines_in_file", "matched", "breaks", "created_at"]
    list_filter = ["gateway"]
    inlines = [SettlementBreakInline]


class SettlementBreakForm(forms.ModelForm):
    class Meta:
        model = SettlementBreak
        fields = ["resolution"]

    def clean_resolution(self):
        value = (self.cleaned_data.get("resolution") or "").strip()
        if not value:
            raise ValidationError(_("Say what was done to resolve the break."))
        return value


@admin.register(SettlementBreak)
class SettlementBreakAdmin(SimpleHistoryAdmin):
    """Finance resolves a break by writing what was done; the service stamps who and when."""

    form = SettlementBreakForm
    list_display = ["reference", "kind", "report", "our_amount", "their_amount", "resolved_at", "resolved_by"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter), "report__gateway"]
    search_fields = ["reference"]
    readonly_fields = ["report", "kind", "reference", "our_amount", "their_amount", "resolved_at", "resolved_by"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.resolved_at is not None:
            return [*self.readonly_fields, "resolution"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        try:
            settlement_break_resolve(break_id=obj.pk, resolution=obj.resolution, actor=request.user)
        except DomainError as error:
            self.message_user(request, str(error), messages.ERROR)
