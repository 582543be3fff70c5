"""Insurance admin: insurers, policies and funders as configuration; coverage, claims and loss sharing read-only.

Claims officers move claims with buttons that call the claim services
(approve within the stop-loss, reject with a reason, request documents,
record the payout). Risk staff get the loss-sharing screen (per insurer and
policy, per funder) with CSV export, and each insurer's monthly bordereau
and premium statement as CSV downloads.
"""

from datetime import timedelta

from django.contrib import admin
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed
from simple_history.admin import SimpleHistoryAdmin

from core.business_date import business_date_current
from core.errors import DomainError
from insurance.models import (
    Coverage,
    CoverageMovement,
    Funder,
    FundingShare,
    InsuranceClaim,
    Insurer,
    LossAllocation,
    Policy,
)
from insurance.reports import (
    BORDEREAU_COLUMNS,
    PREMIUM_STATEMENT_COLUMNS,
    bordereau,
    csv_text,
    premium_statement,
)
from insurance.selectors import (
    FUNDER_FIGURE_COLUMNS,
    POLICY_FIGURE_COLUMNS,
    funder_figures,
    policy_figures,
    policy_year,
    stop_loss,
)
from insurance.services import claims
from insurance.services.policies import policy_transition
from lending.admin import (
    BorrowerIdentifierSearchMixin,
    ConfigurationAdmin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    Transition,
    TransitionAdminMixin,
)


def _csv_response(columns, rows, filename: str) -> HttpResponse:
    response = HttpResponse(csv_text(columns, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _last_month() -> str:
    return (business_date_current().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


@admin.register(Insurer)
class InsurerAdmin(ConfigurationAdmin):
    list_display = ["code", "name", "is_active", "exports"]
    search_fields = ["code", "name"]
    fields = ["code", "name", "is_active", "change_reason"]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:insurer_id>/bordereau/", view(self.bordereau_view), name="insurance_insurer_bordereau"),
            path("<int:insurer_id>/premiums/", view(self.premiums_view), name="insurance_insurer_premiums"),
        ] + super().get_urls()

    @admin.display(description=_("Exports (last month; add ?month=YYYY-MM for another)"))
    def exports(self, insurer):
        name = self.admin_site.name
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse(f"{name}:insurance_insurer_bordereau", args=[insurer.pk]),
            _("Bordereau CSV"),
            reverse(f"{name}:insurance_insurer_premiums", args=[insurer.pk]),
            _("Premium statement CSV"),
        )

    def _export(self, request, insurer_id, build):
        insurer = get_object_or_404(Insurer, pk=insurer_id)
        month = request.GET.get("month") or _last_month()
        try:
            return build(insurer, month)
        except DomainError as error:
            return HttpResponse(f"{error.field}: {error.message}", status=400, content_type="text/plain")

    def bordereau_view(self, request, insurer_id):
        return self._export(
            request,
            insurer_id,
            lambda insurer, month: _csv_response(
                BORDEREAU_COLUMNS, bordereau(insurer=insurer, month=month), f"bordereau-{insurer.code}-{month}.csv"
            ),
        )

    def premiums_view(self, request, insurer_id):
        def build(insurer, month):
            statement = premium_statement(insurer=insurer, month=month)
            rows = [*statement["policies"], {"policy": "total", "premium": statement["total"]}]
            return _csv_response(PREMIUM_STATEMENT_COLUMNS, rows, f"premiums-{insurer.code}-{month}.csv")

        return self._export(request, insurer_id, build)


def _policy_transition(action: str, label: str, done: str) -> Transition:
    return Transition(
        name=action,
        label=label,
        done=done,
        applies=lambda policy: can_proceed(getattr(policy, action)),
        run=lambda policy, given: policy_transition(
            policy_id=policy.pk, action=action, reason=given.reason, actor=given.actor
        ),
    )


@admin.register(Policy)
class PolicyAdmin(TransitionAdminMixin, ConfigurationAdmin):
    change_list_template = "admin/insurance/policy/change_list.html"
    list_display = [
        "number", "insurer", "state", "monthly_premium_rate", "claim_trigger_dpd", "stop_loss_rate",
        "stop_loss_utilisation", "effective_from", "effective_to",
    ]  # fmt: skip
    list_filter = ["state", "insurer"]
    search_fields = ["number", "insurer__name"]
    filter_horizontal = ["products", "partners"]
    fieldsets = [
        (None, {"fields": ["insurer", "number", "state", "effective_from", "effective_to"]}),
        (_("What it covers"), {"fields": ["products", "partners", "principal_coverage", "interest_coverage",
                                          "penalty_coverage"]}),
        (_("Premium"), {"fields": ["monthly_premium_rate"]}),
        (_("Claims"), {"fields": ["claim_trigger_dpd", "waiting_days", "stop_loss_rate", "recovery_insurer_share"]}),
        (_("Audit"), {"fields": ["change_reason"]}),
    ]  # fmt: skip
    transitions = (
        _policy_transition("activate", _("Activate"), _("The policy is active: new loans are enrolled.")),
        _policy_transition("suspend", _("Suspend"), _("The policy is suspended: no new loans are enrolled.")),
        _policy_transition("resume", _("Resume"), _("The policy is active again.")),
        _policy_transition("expire", _("Expire"), _("The policy has expired.")),
    )

    def get_readonly_fields(self, request, obj=None):
        # The state moves only through the buttons (policy_transition checks what a move needs).
        return ["state", "insurer", "number"] if obj else ["state"]

    @admin.display(description=_("Stop-loss used (this policy year)"))
    def stop_loss_utilisation(self, policy):
        year = max(policy_year(policy, min(business_date_current(), policy.effective_to)), 1)
        return f"{stop_loss(policy=policy, year=year).utilisation:.2%}"

    def get_urls(self):
        return [
            path(
                "loss-sharing/",
                self.admin_site.admin_view(self.loss_sharing_view),
                name="insurance_policy_loss_sharing",
            )
        ] + super().get_urls()

    def loss_sharing_view(self, request):
        """Per insurer and policy, and per funder; `?export=policies` or `?export=funders` downloads the CSV."""
        today = business_date_current()
        export = request.GET.get("export")
        if export == "policies":
            return _csv_response(POLICY_FIGURE_COLUMNS, policy_figures(on_date=today), f"loss-sharing-{today}.csv")
        if export == "funders":
            return _csv_response(FUNDER_FIGURE_COLUMNS, funder_figures(), f"funder-losses-{today}.csv")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Loss sharing"),
            "opts": self.opts,
            "as_of": today,
            "policy_columns": POLICY_FIGURE_COLUMNS,
            "policy_rows": [[row[c] for c in POLICY_FIGURE_COLUMNS] for row in policy_figures(on_date=today)],
            "funder_columns": FUNDER_FIGURE_COLUMNS,
            "funder_rows": [[row[c] for c in FUNDER_FIGURE_COLUMNS] for row in funder_figures()],
        }
        return TemplateResponse(request, "admin/insurance/loss_sharing.html", context)


class CoverageMovementInline(ReadOnlyInline):
    model = CoverageMovement
    fields = ["business_date", "kind", "amount", "journal_entry"]
    readonly_fields = fields
    show_change_link = False


@admin.register(Coverage)
class CoverageAdmin(BorrowerIdentifierSearchMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    borrower_path = "loan__credit_line__borrower"
    list_display = ["loan", "policy", "policy_year", "enrolled_on", "insured_principal", "state", "compensated_on"]
    list_filter = ["state", "policy__insurer", "policy", "policy_year"]
    list_select_related = ["loan", "policy__insurer"]
    search_fields = ["loan__number", "policy__number"]
    inlines = [CoverageMovementInline]


def _claim_transition(name: str, label: str, done: str, run, **options) -> Transition:
    return Transition(
        name=name, label=label, done=done, applies=lambda claim: can_proceed(getattr(claim, name)), run=run, **options
    )


@admin.register(InsuranceClaim)
class InsuranceClaimAdmin(BorrowerIdentifierSearchMixin, TransitionAdminMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    borrower_path = "coverage__loan__credit_line__borrower"
    list_display = [
        "id", "loan", "policy", "state", "filed_on", "dpd_at_filing", "claimed_amount", "approved_amount", "paid_on",
    ]  # fmt: skip
    list_filter = ["state", "coverage__policy__insurer", "coverage__policy", "filed_on"]
    list_select_related = ["coverage__loan", "coverage__policy"]
    search_fields = ["coverage__loan__number", "coverage__loan__credit_line__borrower__name"]
    search_help_text = _("Loan number, borrower name, or an exact national id, mobile number or credit code.")
    date_hierarchy = "filed_on"
    transitions = (
        _claim_transition(
            "approve", _("Approve"), _("The claim was approved within the stop-loss."),
            lambda claim, given: claims.claim_approve(claim_id=claim.pk, actor=given.actor,
                                                      reason=given.reason or "approved"),
            needs_reason=False,
        ),
        _claim_transition(
            "reject", _("Reject"), _("The claim was rejected."),
            lambda claim, given: claims.claim_reject(claim_id=claim.pk, reason=given.reason, actor=given.actor),
        ),
        _claim_transition(
            "request_documents", _("Request documents"), _("Documents were requested (the reason lists them)."),
            lambda claim, given: claims.claim_request_documents(
                claim_id=claim.pk, documents=given.reason, actor=given.actor
            ),
        ),
        _claim_transition(
            "pay", _("Record payout"), _("The payout was recorded; the loan is compensated."),
            lambda claim, given: claims.claim_pay(claim_id=claim.pk, reference=given.reference, actor=given.actor),
            needs_reason=False, takes_reference=True,
        ),
    )  # fmt: skip

    @admin.display(description=_("Loan"), ordering="coverage__loan__number")
    def loan(self, claim):
        return claim.coverage.loan

    @admin.display(description=_("Policy"), ordering="coverage__policy__number")
    def policy(self, claim):
        return claim.coverage.policy.number


@admin.register(Funder)
class FunderAdmin(ConfigurationAdmin):
    list_display = ["code", "name", "kind", "default_share", "is_active"]
    fields = ["code", "name", "kind", "default_share", "is_active", "change_reason"]


@admin.register(FundingShare)
class FundingShareAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["loan", "funder", "share"]
    list_filter = ["funder"]
    list_select_related = ["loan", "funder"]
    search_fields = ["loan__number"]


@admin.register(LossAllocation)
class LossAllocationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["business_date", "loan", "funder", "amount", "journal_entry"]
    list_filter = ["funder", "business_date"]
    list_select_related = ["loan", "funder"]
    search_fields = ["loan__number"]
    date_hierarchy = "business_date"


@admin.register(CoverageMovement)
class CoverageMovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["business_date", "coverage", "kind", "amount", "journal_entry"]
    list_filter = ["kind", "business_date", "coverage__policy"]
    list_select_related = ["coverage__loan", "coverage__policy"]
    date_hierarchy = "business_date"
