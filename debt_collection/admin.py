"""The collector workbench: "my queue", the case page, one-click contact logging, bulk reassignment.

Cases are written by the close of day and the services only: the case page
is read-only, and its forms (log an attempt, escalate) post to admin URLs
that call the services, so the conduct rules apply to clicks as to any
other caller. A refusal comes back as a message naming the rule.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import TransitionNotAllowed
from simple_history.admin import SimpleHistoryAdmin

from core.errors import DomainError
from debt_collection.models import (
    CaseAssignment,
    CollectionCase,
    CollectorProfile,
    ContactAttempt,
    Escalation,
    HardshipRecord,
    PromiseToPay,
    Recovery,
)
from debt_collection.selectors import case_next_contact, cases_by_priority
from debt_collection.services import case_escalate, cases_reassign, collectors, contact_attempt_log
from lending.admin import BorrowerIdentifierSearchMixin, ReadOnlyAdminMixin
from lending.models import Installment, Loan

# One-click buttons on the case page: (channel, outcome, label).
QUICK_OUTCOMES = [
    ("call", "no_answer", _("Call: no answer")),
    ("call", "connected", _("Call: connected")),
    ("call", "refused", _("Call: refused to pay")),
    ("call", "wrong_number", _("Call: wrong number")),
    ("sms", "delivered", _("SMS sent")),
    ("app_message", "delivered", _("App message sent")),
]


class AssignedFilter(admin.SimpleListFilter):
    title = _("collector")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", _("My queue")), ("nobody", _("Waiting for a collector"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(collector=request.user)
        if self.value() == "nobody":
            return queryset.filter(collector__isnull=True)
        return queryset


class ReassignForm(forms.Form):
    collector = forms.ModelChoiceField(queryset=None, required=False, empty_label=_("Nobody (back to the queue)"))
    reason = forms.CharField(max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collector"].queryset = collectors().order_by("username")


class ContactForm(forms.Form):
    channel = forms.ChoiceField(choices=ContactAttempt.Channel.choices)
    outcome = forms.ChoiceField(choices=ContactAttempt.Outcome.choices)
    party = forms.ChoiceField(choices=ContactAttempt.Party.choices, initial=ContactAttempt.Party.DEBTOR)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    promise_amount = forms.DecimalField(required=False, max_digits=18, decimal_places=2)
    promise_date = forms.DateField(required=False)


class EscalateForm(forms.Form):
    kind = forms.ChoiceField(choices=Escalation.Kind.choices)
    agency = forms.CharField(required=False, max_length=120)
    reason = forms.CharField(max_length=200)


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False


class ContactAttemptInline(ReadOnlyInline):
    model = ContactAttempt
    fields = ["attempted_at", "channel", "outcome", "party", "collector", "notes"]
    readonly_fields = fields


class PromiseInline(ReadOnlyInline):
    model = PromiseToPay
    fields = ["amount", "due_date", "promised_on", "state", "paid", "settled_on", "collector"]
    readonly_fields = fields


class AssignmentInline(ReadOnlyInline):
    model = CaseAssignment
    fk_name = "case"
    fields = ["business_date", "collector", "previous_collector", "queue", "reason", "actor"]
    readonly_fields = fields


@admin.register(CollectionCase)
class CollectionCaseAdmin(BorrowerIdentifierSearchMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    change_form_template = "admin/collections/collectioncase/change_form.html"
    borrower_path = "borrower"
    list_display = [
        "pk", "borrower", "state", "bucket", "queue", "collector", "amount_overdue", "promise_due", "opened_on",
    ]  # fmt: skip
    list_filter = [AssignedFilter, "state", "queue", "bucket", "borrower__partner", "opened_on"]
    list_select_related = ["borrower", "collector"]
    search_fields = ["borrower__name", "borrower__credit_lines__loans__number"]
    search_help_text = _("Borrower name, loan number, or an exact national id, mobile number or credit code.")
    actions = ["reassign"]
    fields = [
        "borrower", "state", "bucket", "queue", "collector", "time_zone", "opened_on", "closed_on", "paused_until",
    ]  # fmt: skip
    readonly_fields = fields
    inlines = [PromiseInline, ContactAttemptInline, AssignmentInline]

    def get_queryset(self, request):
        return cases_by_priority(super().get_queryset(request))

    @admin.display(description=_("owed on overdue loans"), ordering="amount_overdue")
    def amount_overdue(self, obj):
        return obj.amount_overdue

    @admin.display(description=_("promise due"), ordering="promise_due")
    def promise_due(self, obj):
        return obj.promise_due

    def has_workbench_permission(self, request) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("my-queue/", view(self.my_queue_view), name=f"{prefix}_my_queue"),
            path("<path:object_id>/log-attempt/", view(self.log_attempt_view), name=f"{prefix}_log_attempt"),
            path("<path:object_id>/escalate/", view(self.escalate_view), name=f"{prefix}_escalate"),
        ] + super().get_urls()

    def my_queue_view(self, request):
        changelist = reverse(f"{self.admin_site.name}:collections_collectioncase_changelist")
        return HttpResponseRedirect(f"{changelist}?assigned=me")

    def _case_or_404(self, request, object_id) -> CollectionCase:
        case = self.get_object(request, unquote(object_id))
        if case is None:
            raise Http404
        if not self.has_workbench_permission(request):
            raise PermissionDenied
        return case

    def _back(self, case):
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:collections_collectioncase_change", args=[case.pk])
        )

    def log_attempt_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        case = self._case_or_404(request, object_id)
        form = ContactForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Attempt not logged: %(errors)s") % {"errors": _form_errors(form)})
            return self._back(case)
        data = form.cleaned_data
        try:
            contact_attempt_log(
                case_id=case.pk, collector=request.user, channel=data["channel"], outcome=data["outcome"],
                party=data["party"], notes=data["notes"], promise_amount=data["promise_amount"],
                promise_date=data["promise_date"],
            )  # fmt: skip
        except DomainError as error:
            messages.error(
                request, _("Attempt refused (%(rule)s): %(message)s") % {"rule": error.code, "message": error}
            )
        else:
            messages.success(request, _("Attempt logged."))
        return self._back(case)

    def escalate_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        case = self._case_or_404(request, object_id)
        form = EscalateForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Not escalated: %(errors)s") % {"errors": _form_errors(form)})
            return self._back(case)
        try:
            case_escalate(case_id=case.pk, actor=request.user, **form.cleaned_data)
        except (DomainError, TransitionNotAllowed) as error:
            messages.error(request, _("Escalation refused: %(message)s") % {"message": error})
        else:
            messages.success(request, _("Case escalated."))
        return self._back(case)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            loans = list(
                Loan.objects.filter(credit_line__borrower_id=obj.borrower_id)
                .exclude(state__in=[Loan.State.PENDING, Loan.State.CANCELLED])
                .order_by("pk")
            )
            context.update(
                workbench=self.has_workbench_permission(request) and obj.is_active,
                next_contact=case_next_contact(obj, now=timezone.now()),
                loans=loans,
                installments=Installment.objects.filter(loan__in=loans).order_by("loan_id", "number"),
                repayments=[r for loan in loans for r in loan.repayments.order_by("value_date", "pk")],
                hardship=obj.hardship_records.order_by("pk"),
                escalations=obj.escalations.order_by("pk"),
                recoveries=obj.recoveries.order_by("pk"),
                quick_outcomes=QUICK_OUTCOMES,
                contact_form=ContactForm(),
                escalate_form=EscalateForm(),
                log_url=reverse(f"{self.admin_site.name}:collections_collectioncase_log_attempt", args=[obj.pk]),
                escalate_url=reverse(f"{self.admin_site.name}:collections_collectioncase_escalate", args=[obj.pk]),
            )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    @admin.action(description=_("Reassign the selected cases"))
    def reassign(self, request, queryset):
        if not self.has_workbench_permission(request):
            raise PermissionDenied
        if "apply" in request.POST:
            form = ReassignForm(request.POST)
            if form.is_valid():
                try:
                    records = cases_reassign(
                        case_ids=list(queryset.values_list("pk", flat=True)),
                        collector=form.cleaned_data["collector"],
                        reason=form.cleaned_data["reason"],
                        actor=request.user,
                    )
                except DomainError as error:
                    messages.error(request, _("Reassignment refused: %(message)s") % {"message": error})
                else:
                    messages.success(request, _("%(count)d cases reassigned.") % {"count": len(records)})
                return None
        else:
            form = ReassignForm()
        return TemplateResponse(
            request,
            "admin/collections/collectioncase/reassign.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "form": form,
                "cases": queryset,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "title": _("Reassign cases"),
            },
        )


def _form_errors(form) -> str:
    return "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())


@admin.register(CollectorProfile)
class CollectorProfileAdmin(SimpleHistoryAdmin):
    list_display = ["user", "queue", "capacity"]
    list_filter = ["queue"]


@admin.register(PromiseToPay)
class PromiseToPayAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["case", "amount", "due_date", "state", "paid", "settled_on", "collector"]
    list_filter = ["state", "due_date"]


@admin.register(ContactAttempt)
class ContactAttemptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["case", "attempted_at", "channel", "outcome", "party", "collector"]
    list_filter = ["channel", "outcome", "party"]


@admin.register(CaseAssignment)
class CaseAssignmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["case", "business_date", "collector", "previous_collector", "queue", "reason", "actor"]
    list_filter = ["queue", "business_date"]
    list_select_related = ["case__borrower", "collector", "previous_collector", "actor"]
    search_fields = ["case__borrower__name", "collector__username"]
    date_hierarchy = "business_date"
    fields = ["case", "business_date", "collector", "previous_collector", "queue", "reason", "actor", "created_at"]
    readonly_fields = fields


@admin.register(HardshipRecord)
class HardshipRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["case", "kind", "business_date", "pause_until", "requested_by", "approved_by"]
    list_filter = ["kind", "business_date"]
    list_select_related = ["case__borrower", "requested_by", "approved_by"]
    search_fields = ["case__borrower__name", "reason"]
    date_hierarchy = "business_date"
    fields = ["case", "kind", "reason", "requested_by", "approved_by", "business_date", "pause_until", "created_at"]
    readonly_fields = fields


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["case", "kind", "agency", "business_date", "actor"]
    list_filter = ["kind", "business_date"]
    list_select_related = ["case__borrower", "actor"]
    search_fields = ["case__borrower__name", "agency", "reason"]
    date_hierarchy = "business_date"
    fields = ["case", "kind", "agency", "reason", "actor", "business_date", "created_at"]
    readonly_fields = fields


@admin.register(Recovery)
class RecoveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["case", "loan", "amount", "business_date", "source_reference", "actor"]
    list_filter = ["business_date"]
    list_select_related = ["case__borrower", "loan", "actor"]
    search_fields = ["loan__number", "=source_reference", "case__borrower__name"]
    date_hierarchy = "business_date"
    fields = ["case", "loan", "amount", "business_date", "source_reference", "journal_entry", "actor", "created_at"]
    readonly_fields = fields
