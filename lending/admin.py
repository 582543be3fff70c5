"""Lending admin screens: masked personal data, read-only money and state, transitions only through services.

Borrowers, credit lines, loans and repayments are written by the services
(partner API, underwriting, close of day), so their screens are read-only.
Staff move them with buttons that call the same services, which lock the
rows, post to the ledger and record the actor and reason. Only the
configuration (partners, products) is edited here, each change with a
reason that lands in its history.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from core import pii
from core.business_date import REASON_MAX_LENGTH, business_date_current
from core.errors import DomainError
from lending import engine, identity
from lending.models import (
    Borrower,
    CreditLine,
    CreditLineChange,
    Installment,
    Loan,
    Partner,
    Product,
    Repayment,
    RepaymentAllocation,
    RepaymentReversal,
)
from lending.schedules import RepaymentMethod
from lending.services import credit_lines, loans, repayments

# repayment_reverse refuses other loan states; the button follows the same rule.
REVERSIBLE_LOAN_STATES = frozenset({Loan.State.CURRENT, Loan.State.OVERDUE, Loan.State.PAID_OFF})


# --- read-only screens --------------------------------------------------------


class ReadOnlyAdminMixin:
    """Rows written only by services: viewed here, never added, edited or deleted."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True


# --- transitions through services ---------------------------------------------


@dataclass(frozen=True)
class TransitionInput:
    reason: str
    reference: str
    actor: Any


@dataclass(frozen=True)
class Transition:
    """A button on a change page that calls one service.

    `applies` decides whether the button is shown (the model's own FSM
    predicate where there is one); the service stays the judge under its
    row locks, so a stale page gets the service's refusal as a message.
    """

    name: str
    label: str
    done: str
    applies: Callable[[Any], bool]
    run: Callable[[Any, TransitionInput], object]
    needs_reason: bool = True
    takes_reference: bool = False


class TransitionAdminMixin:
    """Buttons for `transitions` on the change page, each posting to its own admin URL.

    The form of these models is read-only, so the model's change permission
    is read as the right to run its transitions.
    """

    change_form_template = "admin/lending/change_form_transitions.html"
    transitions: tuple[Transition, ...] = ()

    def get_urls(self):
        opts = self.opts
        urls = [
            path(
                "<path:object_id>/transition/<slug:name>/",
                self.admin_site.admin_view(self.transition_view),
                name=f"{opts.app_label}_{opts.model_name}_transition",
            )
        ]
        # Before the defaults: their "<path:object_id>/" catch-all would take these URLs.
        return urls + super().get_urls()

    def has_transition_permission(self, request) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")

    def transition_buttons(self, request, obj) -> list[dict]:
        if obj is None or not self.has_transition_permission(request):
            return []
        opts = self.opts
        return [
            {
                "name": transition.name,
                "label": transition.label,
                "needs_reason": transition.needs_reason,
                "takes_reference": transition.takes_reference,
                "url": reverse(
                    f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_transition",
                    args=[obj.pk, transition.name],
                ),
            }
            for transition in self.transitions
            if transition.applies(obj)
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        buttons = self.transition_buttons(request, obj)
        context.update(
            transition_buttons=buttons,
            transition_needs_reason=any(button["needs_reason"] for button in buttons),
            transition_takes_reference=any(button["takes_reference"] for button in buttons),
            reason_max_length=REASON_MAX_LENGTH,
        )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def transition_view(self, request, object_id, name):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        transition = next((t for t in self.transitions if t.name == name), None)
        if transition is None:
            raise Http404
        opts = self.opts
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_transition_permission(request):
            raise PermissionDenied
        change_url = reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        given = TransitionInput(
            reason=request.POST.get("reason", "").strip(),
            reference=request.POST.get("reference", "").strip(),
            actor=request.user,
        )
        problem = self._input_problem(transition, given)
        if problem:
            messages.error(request, problem)
            return HttpResponseRedirect(change_url)
        try:
            transition.run(obj, given)
        except (DomainError, TransitionNotAllowed, ConcurrentTransition) as error:
            # The service's refusal (or a state change that raced a stale page) is news, not a crash.
            message = error.message if isinstance(error, DomainError) else str(error)
            messages.error(
                request,
                _("%(action)s refused: %(message)s") % {"action": transition.label, "message": message},
            )
        else:
            self.log_change(request, obj, f"{transition.name}: {given.reason}" if given.reason else transition.name)
            messages.success(request, transition.done)
        return HttpResponseRedirect(change_url)

    @staticmethod
    def _input_problem(transition: Transition, given: TransitionInput) -> str | None:
        # History stores the reason as the change reason, which holds REASON_MAX_LENGTH characters.
        if transition.needs_reason and not given.reason:
            return _("%(action)s needs a reason.") % {"action": transition.label}
        if len(given.reason) > REASON_MAX_LENGTH or len(given.reference) > REASON_MAX_LENGTH:
            return _("A reason or reference has at most %(count)d characters.") % {"count": REASON_MAX_LENGTH}
        return None


# --- configuration: partners and products --------------------------------------


class ChangeReasonForm(forms.ModelForm):
    """A configuration form that asks why; the answer becomes the history record's change reason."""

    change_reason = forms.CharField(
        label=_("Reason for this change"),
        max_length=REASON_MAX_LENGTH,
        help_text=_("Recorded in the history with your user name."),
    )


class ConfigurationAdmin(SimpleHistoryAdmin):
    """Added and edited by staff, never deleted: lines, loans and borrowers refer to these rows."""

    form = ChangeReasonForm

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj._change_reason = form.cleaned_data["change_reason"]
        super().save_model(request, obj, form, change)


@admin.register(Partner)
class PartnerAdmin(ConfigurationAdmin):
    list_display = ["code", "name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
    fields = ["code", "name", "is_active", "change_reason"]

    def get_readonly_fields(self, request, obj=None):
        # The code is how integrations name the partner.
        return ["code"] if obj else []


class ProductForm(ChangeReasonForm):
    def clean_terms(self):
        terms = self.cleaned_data["terms"]
        if (
            not isinstance(terms, list)
            or not terms
            or not all(isinstance(t, int) and not isinstance(t, bool) and t > 0 for t in terms)
            or len(set(terms)) != len(terms)
        ):
            raise forms.ValidationError(_("Give a list of distinct positive whole months, e.g. [3, 6, 12]."))
        return terms

    def clean_methods(self):
        methods = self.cleaned_data["methods"]
        known = [m.value for m in RepaymentMethod]
        if (
            not isinstance(methods, list)
            or not methods
            or not all(m in known for m in methods)
            or len(set(methods)) != len(methods)
        ):
            raise forms.ValidationError(
                _("Give a list of distinct repayment methods from: %(known)s.") % {"known": ", ".join(known)}
            )
        return methods

    def clean_component_order(self):
        order = self.cleaned_data["component_order"]
        # A component left out of the waterfall would never be paid.
        if not isinstance(order, list) or sorted(map(str, order)) != sorted(engine.COMPONENTS):
            raise forms.ValidationError(
                _("Give each of %(components)s exactly once.") % {"components": ", ".join(engine.COMPONENTS)}
            )
        return order


@admin.register(Product)
class ProductAdmin(ConfigurationAdmin):
    form = ProductForm
    list_display = [
        "code",
        "name",
        "is_active",
        "min_limit",
        "max_limit",
        "default_daily_rate",
        "apr_cap",
        "allocation",
    ]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
    fieldsets = [
        (None, {"fields": ["code", "name", "currency", "is_active"]}),
        (
            _("Limits and drawdowns"),
            {"fields": ["min_limit", "max_limit", "min_drawdown", "drawdown_multiple"]},
        ),
        (
            _("Pricing"),
            {
                "fields": [
                    "min_daily_rate",
                    "default_daily_rate",
                    "max_daily_rate",
                    "day_count",
                    "monthly_fee_rate",
                    "penalty_multiplier",
                    "apr_cap",
                ]
            },
        ),
        (_("Terms and repayment"), {"fields": ["terms", "methods", "prepayment"]}),
        (_("Delinquency"), {"fields": ["grace_days", "freeze_dpd", "npl_dpd", "write_off_dpd"]}),
        (_("Allocation of payments"), {"fields": ["allocation", "component_order", "residue_tolerance"]}),
        (_("Audit"), {"fields": ["change_reason"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # Amounts are CNY throughout (see ARCHITECTURE.md, Money).
        return ["code", "currency"] if obj else ["currency"]


# --- borrowers -------------------------------------------------------------------

# Never on a screen: ciphertext, look-up hashes (a keyed hash is still an
# identifier) and the birth date, which with the masked id leaves only a few
# candidate ids.
BORROWER_HIDDEN_FIELDS = frozenset(
    {
        "national_id_encrypted",
        "national_id_hash",
        "mobile_encrypted",
        "mobile_hash",
        "credit_code_encrypted",
        "credit_code_hash",
        "date_of_birth",
    }
)


class BorrowerHistoryContextHelper(HistoricalRecordContextHelper):
    def context_for_delta_changes(self, delta):
        shown = [change for change in delta.changes if change.field not in BORROWER_HIDDEN_FIELDS]
        return super().context_for_delta_changes(replace(delta, changes=shown))


def _identifier_hashes(term: str) -> dict[str, str]:
    """Look-up hashes of `term` read as each kind of identifier it validates as."""
    hashes = {}
    readers = {
        # Any birth date: a search looks up, it does not onboard.
        "national_id_hash": lambda value: identity.national_id_normalize(value, today=datetime.date.max),
        "mobile_hash": identity.mobile_normalize,
        "credit_code_hash": identity.uscc_normalize,
    }
    for field, normalize in readers.items():
        try:
            hashes[field] = pii.lookup_hash(normalize(term))
        except DomainError:
            continue
    return hashes


@admin.register(Borrower)
class BorrowerAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["id", "name", "kind", "identifier", "mobile_masked", "partner", "created_at"]
    list_filter = ["kind", "partner"]
    list_select_related = ["partner"]
    search_fields = ["name", "=external_reference"]
    search_help_text = _("Name or partner reference, or an exact national id, mobile number or credit code.")
    date_hierarchy = "created_at"
    person_fieldset = (_("Person"), {"fields": ["national_id_masked", "age", "monthly_income"]})
    business_fieldset = (
        _("Micro-business"),
        {"fields": ["credit_code_masked", "legal_representative", "business_type", "business_start_date"]},
    )
    fieldsets = [
        (None, {"fields": ["partner", "kind", "name", "external_reference", "created_at"]}),
        person_fieldset,
        business_fieldset,
        (_("Contact"), {"fields": ["mobile_masked"]}),
    ]
    readonly_fields = [field for _name, options in fieldsets for field in options["fields"]]

    def get_fieldsets(self, request, obj=None):
        # Only the identity block of the borrower's kind: the other one would be all blanks.
        if obj is None:
            return self.fieldsets
        unused = self.business_fieldset if obj.kind == Borrower.Kind.PERSON else self.person_fieldset
        return [fieldset for fieldset in self.fieldsets if fieldset is not unused]

    @admin.display(description=_("Identifier"))
    def identifier(self, borrower):
        if borrower.kind == Borrower.Kind.PERSON:
            return borrower.national_id_masked
        return borrower.credit_code_masked

    @admin.display(description=_("Age at the business date"))
    def age(self, borrower):
        born = borrower.date_of_birth
        if born is None:
            return None
        today = business_date_current()
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        hashes = _identifier_hashes(search_term.strip()) if search_term.strip() else {}
        if hashes:
            by_identifier = Q()
            for field, value in hashes.items():
                by_identifier |= Q(**{field: value})
            results = results | queryset.filter(by_identifier)
        return results, may_have_duplicates

    def get_historical_record_context_helper(self, request, historical_record):
        return BorrowerHistoryContextHelper(self.model, historical_record)


# --- credit lines ------------------------------------------------------------------


class CreditLineChangeInline(ReadOnlyInline):
    model = CreditLineChange
    fields = ["field", "old_value", "new_value", "reason", "actor", "business_date", "created_at"]
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


def _line_transition(name: str, label: str, done: str, service: str) -> Transition:
    return Transition(
        name=name,
        label=label,
        done=done,
        applies=lambda line: can_proceed(getattr(line, name)),
        run=lambda line, given: getattr(credit_lines, service)(
            credit_line_id=line.pk, reason=given.reason, actor=given.actor
        ),
    )


@admin.register(CreditLine)
class CreditLineAdmin(TransitionAdminMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "id",
        "borrower",
        "partner",
        "product",
        "state",
        "limit",
        "used",
        "available",
        "daily_rate",
        "valid_until",
    ]
    list_filter = ["state", "product", "borrower__partner"]
    list_select_related = ["borrower__partner", "product"]
    search_fields = ["=id", "borrower__name"]
    date_hierarchy = "valid_from"
    fields = [
        "borrower",
        "product",
        "state",
        "limit",
        "used",
        "available",
        "daily_rate",
        "valid_from",
        "valid_until",
        "created_at",
        "loans_link",
    ]
    readonly_fields = fields
    inlines = [CreditLineChangeInline]
    transitions = (
        _line_transition("freeze", _("Freeze"), _("The credit line was frozen."), "credit_line_freeze"),
        _line_transition("unfreeze", _("Unfreeze"), _("The credit line was unfrozen."), "credit_line_unfreeze"),
        _line_transition("close", _("Close"), _("The credit line was closed."), "credit_line_close"),
    )

    @admin.display(description=_("Partner"), ordering="borrower__partner__name")
    def partner(self, line):
        return line.borrower.partner

    @admin.display(description=_("Available"))
    def available(self, line):
        return line.available

    @admin.display(description=_("Loans"))
    def loans_link(self, line):
        url = reverse(f"{self.admin_site.name}:lending_loan_changelist")
        return format_html('<a href="{}?credit_line__id__exact={}">{}</a>', url, line.pk, _("Loans on this line"))


# --- loans ---------------------------------------------------------------------------


class InstallmentInline(ReadOnlyInline):
    model = Installment
    fields = [
        "number",
        "due_date",
        "state",
        "principal",
        "interest",
        "fee",
        "penalty",
        "principal_paid",
        "interest_paid",
        "fee_paid",
        "penalty_paid",
        "paid_on",
    ]
    readonly_fields = fields


class RepaymentInline(ReadOnlyInline):
    model = Repayment
    fields = ["value_date", "amount", "channel", "source_reference", "received_at", "is_reversed"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reversal")

    @admin.display(description=_("Reversed"), boolean=True)
    def is_reversed(self, repayment):
        return hasattr(repayment, "reversal")


@admin.register(Loan)
class LoanAdmin(TransitionAdminMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "number",
        "borrower",
        "partner",
        "product",
        "state",
        "principal",
        "principal_outstanding",
        "total_outstanding",
        "requested_on",
        "disbursed_on",
    ]
    list_filter = ["state", "dpd_bucket", "credit_line__product", "credit_line__borrower__partner", "disbursed_on"]
    list_select_related = ["credit_line__borrower__partner", "credit_line__product"]
    search_fields = ["number", "=idempotency_key"]
    date_hierarchy = "requested_on"
    fieldsets = [
        (None, {"fields": ["number", "credit_line", "borrower", "state"]}),
        (
            _("Contract"),
            {
                "fields": [
                    "principal",
                    "term_months",
                    "method",
                    "daily_rate",
                    "monthly_fee_rate",
                    "nominal_apr",
                    "effective_apr",
                    "idempotency_key",
                ]
            },
        ),
        (_("Dates"), {"fields": ["requested_on", "disbursed_on", "closed_on", "created_at"]}),
        (
            _("Balances (cache of the ledger)"),
            {
                "fields": [
                    "principal_outstanding",
                    "interest_outstanding",
                    "fee_outstanding",
                    "penalty_outstanding",
                    "total_outstanding",
                ]
            },
        ),
    ]
    readonly_fields = [
        "number",
        "credit_line",
        "borrower",
        "state",
        "principal",
        "term_months",
        "method",
        "daily_rate",
        "monthly_fee_rate",
        "nominal_apr",
        "effective_apr",
        "idempotency_key",
        "requested_on",
        "disbursed_on",
        "closed_on",
        "created_at",
        "principal_outstanding",
        "interest_outstanding",
        "fee_outstanding",
        "penalty_outstanding",
        "total_outstanding",
    ]
    inlines = [InstallmentInline, RepaymentInline]
    transitions = (
        Transition(
            name="disburse",
            label=_("Disburse"),
            done=_("The loan was disbursed."),
            applies=lambda loan: can_proceed(loan.disburse),
            run=lambda loan, given: loans.loan_disburse(loan_id=loan.pk, actor=given.actor),
            needs_reason=False,
        ),
        Transition(
            name="cancel",
            label=_("Cancel"),
            done=_("The loan was cancelled."),
            applies=lambda loan: can_proceed(loan.cancel),
            run=lambda loan, given: loans.loan_cancel(loan_id=loan.pk, reason=given.reason, actor=given.actor),
        ),
    )

    @admin.display(description=_("Borrower"), ordering="credit_line__borrower__name")
    def borrower(self, loan):
        return loan.credit_line.borrower

    @admin.display(description=_("Partner"), ordering="credit_line__borrower__partner__name")
    def partner(self, loan):
        return loan.credit_line.borrower.partner

    @admin.display(description=_("Product"), ordering="credit_line__product__name")
    def product(self, loan):
        return loan.credit_line.product

    @admin.display(description=_("Total outstanding"))
    def total_outstanding(self, loan):
        return loan.total_outstanding


@admin.register(Installment)
class InstallmentAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "loan",
        "number",
        "due_date",
        "state",
        "principal",
        "interest",
        "fee",
        "penalty",
        "unpaid",
        "paid_on",
    ]
    list_filter = ["state", "due_date"]
    list_select_related = ["loan"]
    search_fields = ["loan__number"]
    date_hierarchy = "due_date"
    fields = [
        "loan",
        "number",
        "state",
        "start_date",
        "due_date",
        "principal",
        "interest",
        "fee",
        "penalty",
        "principal_paid",
        "interest_paid",
        "fee_paid",
        "penalty_paid",
        "unpaid",
        "accrual_start",
        "interest_settled",
        "penalty_accrued_exact",
        "penalty_accrued_through",
        "paid_on",
    ]
    readonly_fields = fields

    @admin.display(description=_("Unpaid"))
    def unpaid(self, installment):
        return installment.unpaid


# --- repayments ----------------------------------------------------------------------


class RepaymentAllocationInline(ReadOnlyInline):
    model = RepaymentAllocation
    fields = ["installment", "journal_entry", "principal", "interest", "fee", "penalty", "total"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("installment", "journal_entry")

    @admin.display(description=_("Total"))
    def total(self, allocation):
        return allocation.total


@admin.register(Repayment)
class RepaymentAdmin(TransitionAdminMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["id", "loan", "amount", "value_date", "channel", "source_reference", "is_reversed"]
    list_filter = ["channel", "value_date"]
    list_select_related = ["loan", "reversal"]
    search_fields = ["loan__number", "=source_reference", "=idempotency_key"]
    date_hierarchy = "value_date"
    fields = [
        "loan",
        "amount",
        "value_date",
        "channel",
        "source_reference",
        "idempotency_key",
        "received_at",
        "reversal_link",
    ]
    readonly_fields = fields
    inlines = [RepaymentAllocationInline]
    transitions = (
        Transition(
            name="reverse",
            label=_("Reverse"),
            done=_("The repayment was reversed; the loan was rebuilt without it."),
            applies=lambda repayment: (
                not hasattr(repayment, "reversal") and repayment.loan.state in REVERSIBLE_LOAN_STATES
            ),
            run=lambda repayment, given: repayments.repayment_reverse(
                repayment_id=repayment.pk, reason=given.reason, reference=given.reference, actor=given.actor
            ),
            takes_reference=True,
        ),
    )

    @admin.display(description=_("Reversed"), boolean=True)
    def is_reversed(self, repayment):
        return hasattr(repayment, "reversal")

    @admin.display(description=_("Reversal"))
    def reversal_link(self, repayment):
        if not hasattr(repayment, "reversal"):
            return "-"
        url = reverse(f"{self.admin_site.name}:lending_repaymentreversal_change", args=[repayment.reversal.pk])
        return format_html('<a href="{}">{}</a>', url, repayment.reversal)


@admin.register(RepaymentReversal)
class RepaymentReversalAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["id", "repayment", "loan", "business_date", "reason", "reference", "actor", "created_at"]
    list_filter = ["business_date"]
    list_select_related = ["repayment__loan", "actor"]
    search_fields = ["repayment__loan__number", "=reference"]
    date_hierarchy = "business_date"
    fields = ["repayment", "business_date", "reason", "reference", "actor", "created_at"]
    readonly_fields = fields

    @admin.display(description=_("Loan"), ordering="repayment__loan__number")
    def loan(self, reversal):
        return reversal.repayment.loan


@admin.register(RepaymentAllocation)
class RepaymentAllocationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "repayment",
        "installment",
        "journal_entry",
        "principal",
        "interest",
        "fee",
        "penalty",
    ]
    list_select_related = ["repayment", "installment", "journal_entry"]
    search_fields = ["repayment__loan__number"]
    fields = ["repayment", "installment", "journal_entry", "principal", "interest", "fee", "penalty", "total"]
    readonly_fields = fields

    @admin.display(description=_("Total"))
    def total(self, allocation):
        return allocation.total
