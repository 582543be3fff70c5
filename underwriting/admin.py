"""Underwriting admin: the review queue, rule settings, the block list, model versions, limit reviews, alerts.

Applications, reviews, versions and reassessments are written by services,
so their screens are read-only; reviewers act through a form on the
application page that calls `application_review` (four eyes included).
Rule settings are edited here, each change with a reason in its history.
"""

import json
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core.errors import DomainError
from lending.admin import (
    BorrowerIdentifierSearchMixin,
    ChangeReasonForm,
    ConfigurationAdmin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    Transition,
    TransitionAdminMixin,
)
from underwriting import monitoring, registry, services
from underwriting.models import (
    Application,
    ApplicationReview,
    BlockListEntry,
    DrawdownAlert,
    LimitReview,
    ModelVersion,
    RuleSettings,
)
from underwriting.selectors import application_awaits_second_approval


class ApplicationReviewInline(ReadOnlyInline):
    model = ApplicationReview
    fields = ["created_at", "reviewer", "verdict", "limit", "daily_rate", "notes"]
    readonly_fields = fields
    show_change_link = False


def _reasons_html(reasons):
    return format_html(
        "<ul>{}</ul>", format_html_join("", "<li><code>{}</code> {}</li>", ((r["code"], r["message"]) for r in reasons))
    )


SECOND_APPROVAL_PERMISSION = "underwriting.approve_second"


@admin.register(Application)
class ApplicationAdmin(BorrowerIdentifierSearchMixin, TransitionAdminMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    change_form_template = "admin/underwriting/application_change_form.html"
    borrower_path = "borrower"
    list_display = [
        "id", "borrower", "partner", "product", "state", "band", "pd", "requested_amount", "offered_limit",
        "approvals", "submitted_on",
    ]  # fmt: skip
    list_filter = ["state", "band", "automated_decision", "partner", "product", "submitted_on"]
    list_select_related = ["borrower", "partner", "product"]
    search_fields = ["=id", "borrower__name", "=external_reference"]
    search_help_text = _("Application id, borrower name, partner reference, or an exact national id or mobile.")
    date_hierarchy = "submitted_on"
    transitions = (
        Transition(
            name="withdraw",
            label=_("Withdraw"),
            done=_("The application was withdrawn."),
            applies=lambda application: (
                application.state in {Application.State.SUBMITTED, Application.State.MANUAL_REVIEW}
            ),
            run=lambda application, given: services.application_withdraw(
                application_id=application.pk, reason=given.reason, actor=given.actor
            ),
        ),
    )
    inlines = [ApplicationReviewInline]
    fieldsets = [
        (None, {"fields": ["partner", "borrower", "product", "state", "requested_amount", "submitted_on"]}),
        (_("Consent"), {"fields": ["consent_at", "consent_scope", "external_reference"]}),
        (
            _("Decision"),
            {
                "fields": [
                    "decided_on", "automated_decision", "scorer", "model_version", "pd", "band",
                    "offered_limit", "offered_rate", "reasons_list", "credit_line",
                ]
            },
        ),
        (_("Record"), {"fields": ["data_pretty", "features_pretty", "rule_results_list", "rule_inputs", "policy"]}),
    ]  # fmt: skip
    readonly_fields = [field for _name, options in fieldsets for field in options["fields"]]

    @admin.display(description=_("Rule results"))
    def rule_results_list(self, application):
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><code>{}</code> {}</li>",
                ((r["code"], _("passed") if r["passed"] else _("FAILED")) for r in application.rule_results),
            ),
        )

    @admin.display(description=_("Reasons"))
    def reasons_list(self, application):
        return _reasons_html(application.reasons)

    @admin.display(description=_("Data"))
    def data_pretty(self, application):
        return format_html("<pre>{}</pre>", json.dumps(application.data, indent=2))

    @admin.display(description=_("Features"))
    def features_pretty(self, application):
        return format_html("<pre>{}</pre>", json.dumps(application.features, indent=2))

    def get_urls(self):
        opts = self.opts
        review = path(
            "<path:object_id>/review/",
            self.admin_site.admin_view(self.review_view),
            name=f"{opts.app_label}_{opts.model_name}_review",
        )
        queue = path(
            "review-queue/",
            self.admin_site.admin_view(self.review_queue_view),
            name=f"{opts.app_label}_{opts.model_name}_review_queue",
        )
        return [review, queue, *super().get_urls()]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("reviews")

    @admin.display(description=_("Approvals so far"))
    def approvals(self, application):
        return sum(1 for review in application.reviews.all() if review.verdict == ApplicationReview.Verdict.APPROVE)

    def has_review_permission(self, request) -> bool:
        return request.user.has_perm("underwriting.add_applicationreview")

    def has_transition_permission(self, request) -> bool:
        return request.user.has_perm("underwriting.change_application")

    def review_queue_view(self, request):
        """The manual review queue: applications waiting for a reviewer, oldest first."""
        changelist = reverse(f"{self.admin_site.name}:underwriting_application_changelist")
        # Ordered by the submission date column, ascending (the admin's `o` is a 1-based column index).
        oldest_first = self.list_display.index("submitted_on") + 1
        return HttpResponseRedirect(f"{changelist}?state__exact={Application.State.MANUAL_REVIEW}&o={oldest_first}")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.state == Application.State.MANUAL_REVIEW and self.has_review_permission(request):
            second = application_awaits_second_approval(obj, reviewer=request.user)
            context["review_url"] = reverse(f"{self.admin_site.name}:underwriting_application_review", args=[obj.pk])
            context["four_eyes_limit"] = services.rule_settings_get().four_eyes_limit
            context["awaits_second_approval"] = second
            context["may_approve"] = not second or request.user.has_perm(SECOND_APPROVAL_PERMISSION)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def review_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        application = self.get_object(request, unquote(object_id))
        if application is None:
            raise Http404
        if not self.has_review_permission(request):
            raise PermissionDenied
        change_url = reverse(f"{self.admin_site.name}:underwriting_application_change", args=[application.pk])
        if (
            request.POST.get("verdict") == ApplicationReview.Verdict.APPROVE
            and application_awaits_second_approval(application, reviewer=request.user)
            and not request.user.has_perm(SECOND_APPROVAL_PERMISSION)
        ):
            messages.error(request, _("Review refused: the second (four-eyes) approval needs a senior underwriter."))
            return HttpResponseRedirect(change_url)
        try:
            limit = request.POST.get("limit", "").strip()
            rate = request.POST.get("daily_rate", "").strip()
            result = services.application_review(
                application_id=application.pk,
                reviewer=request.user,
                verdict=request.POST.get("verdict", ""),
                notes=request.POST.get("notes", ""),
                limit=Decimal(limit) if limit else None,
                daily_rate=Decimal(rate) if rate else None,
            )
        except InvalidOperation:
            messages.error(request, _("Limit and rate must be decimal numbers."))
        except DomainError as error:
            messages.error(request, _("Review refused: %(message)s") % {"message": str(error)})
        else:
            self.log_change(request, application, f"review: {request.POST.get('verdict')}")
            messages.success(request, _("Review recorded; the application is %(state)s.") % {"state": result.state})
        return HttpResponseRedirect(change_url)


@admin.register(RuleSettings)
class RuleSettingsAdmin(ConfigurationAdmin):
    fieldsets = [
        (_("Hard rules"), {"fields": ["min_age", "max_age", "max_debt_to_income", "min_credit_score"]}),
        (_("Limits and bands"), {"fields": ["income_cap_ratio", "limit_step", "bands"]}),
        (_("Manual review"), {"fields": ["four_eyes_limit", "review_expiry_days"]}),
        (
            _("Drawdown monitoring"),
            {
                "fields": [
                    "fast_full_draw_minutes", "fast_full_draw_share", "burst_drawdowns", "burst_hours",
                    "device_borrowers",
                ]
            },
        ),
        (
            _("Limit reassessment"),
            {"fields": ["reassess_raise_pd", "reassess_lower_pd", "reassess_raise_utilisation", "reassess_step"]},
        ),
        (_("Audit"), {"fields": ["change_reason"]}),
    ]  # fmt: skip

    def has_add_permission(self, request):
        # One row; and adding it is still a permission, not something any staff user may do.
        return super().has_add_permission(request) and not RuleSettings.objects.exists()


class BlockListForm(ChangeReasonForm):
    identifier = forms.CharField(
        max_length=100, help_text=_("National id or mobile (stored only as a keyed hash), or a device id")
    )

    class Meta:
        model = BlockListEntry
        fields = ["kind", "reason"]


@admin.register(BlockListEntry)
class BlockListEntryAdmin(SimpleHistoryAdmin):
    list_display = ["kind", "value_short", "reason", "created_at"]
    list_filter = ["kind"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = BlockListForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["kind", "identifier", "reason", "change_reason"] if obj is None else ["kind", "value", "reason"]

    def get_readonly_fields(self, request, obj=None):
        return ["kind", "value", "reason"] if obj else []

    @admin.display(description=_("Value"))
    def value_short(self, entry):
        return f"{entry.value[:12]}…" if len(entry.value) > 12 else entry.value

    def save_model(self, request, obj, form, change):
        try:
            entry = services.block_list_add(
                kind=form.cleaned_data["kind"],
                identifier=form.cleaned_data["identifier"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            raise PermissionDenied(str(error)) from None
        obj.pk = entry.pk


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["version", "is_active", "source", "auc", "ks", "brier", "rows", "created_at"]
    list_filter = ["is_active"]
    actions = ["activate", "deactivate"]
    fields = [
        "version", "is_active", "source", "target", "feature_names", "categorical", "metrics_summary",
        "calibration", "data_fingerprint", "artifact_path", "artifact_sha256", "created_at",
    ]  # fmt: skip
    readonly_fields = fields

    def has_change_permission(self, request, obj=None):
        # Needed for the actions; the form itself stays read-only (all fields are read-only).
        return request.user.has_perm("underwriting.change_modelversion")

    @admin.display(description="AUC")
    def auc(self, version):
        return version.metrics.get("auc")

    @admin.display(description="KS")
    def ks(self, version):
        return version.metrics.get("ks")

    @admin.display(description="Brier")
    def brier(self, version):
        return version.metrics.get("brier")

    @admin.display(description=_("Rows"))
    def rows(self, version):
        return version.metrics.get("rows")

    @admin.display(description=_("Cross-validated metrics"))
    def metrics_summary(self, version):
        m = version.metrics
        return format_html(
            "AUC {} · KS {} · Gini {} · Brier {} · bad rate {} · fold AUCs {}",
            m.get("auc"), m.get("ks"), m.get("gini"), m.get("brier"), m.get("bad_rate"), m.get("fold_auc"),
        )  # fmt: skip

    @admin.display(description=_("Calibration (by score decile)"))
    def calibration(self, version):
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((r["bin"], r["count"], r["predicted"], r["observed"]) for r in version.metrics.get("calibration", [])),
        )
        return format_html(
            "<table><tr><th>bin</th><th>count</th><th>predicted</th><th>observed</th></tr>{}</table>", rows
        )

    @admin.action(description=_("Make the selected version the live model"))
    def activate(self, request, queryset):
        if queryset.count() != 1:
            messages.error(request, _("Select exactly one version."))
            return
        try:
            version = registry.model_version_activate(version_id=queryset.get().pk)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Model v%(v)s is live.") % {"v": version.version})

    @admin.action(description=_("Deactivate (decide with the built-in scorecard)"))
    def deactivate(self, request, queryset):
        for version in queryset.filter(is_active=True):
            registry.model_version_deactivate(version_id=version.pk)
        messages.success(request, _("No model is live; the built-in scorecard decides."))


@admin.register(LimitReview)
class LimitReviewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["credit_line", "business_date", "action", "old_limit", "new_limit", "pd"]
    list_filter = ["action", "business_date"]
    readonly_fields = ["credit_line", "business_date", "action", "old_limit", "new_limit", "pd", "reasons"]


@admin.register(DrawdownAlert)
class DrawdownAlertAdmin(TransitionAdminMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["id", "rule", "credit_line", "loan", "held", "state", "created_at"]
    list_filter = ["state", "rule", "held", "created_at"]
    list_select_related = ["credit_line", "loan"]
    search_fields = ["loan__number", "credit_line__borrower__name"]
    readonly_fields = ["rule", "detail", "credit_line", "loan", "held", "state", "resolved_by", "created_at"]
    actions = ["release", "reject"]
    transitions = (
        Transition(
            name="release",
            label=_("Release"),
            done=_("The held drawdown was paid out."),
            applies=lambda alert: alert.state == DrawdownAlert.State.OPEN,
            run=lambda alert, given: monitoring.drawdown_alert_release(alert_id=alert.pk, actor=given.actor),
            needs_reason=False,
        ),
        Transition(
            name="reject",
            label=_("Reject"),
            done=_("The held drawdown was cancelled."),
            applies=lambda alert: alert.state == DrawdownAlert.State.OPEN,
            run=lambda alert, given: monitoring.drawdown_alert_reject(
                alert_id=alert.pk, reason=given.reason, actor=given.actor
            ),
        ),
    )

    def has_change_permission(self, request, obj=None):
        # Needed for the actions; every field is read-only.
        return request.user.has_perm("underwriting.change_drawdownalert")

    def _each(self, request, queryset, run, done):
        for alert in queryset.filter(state=DrawdownAlert.State.OPEN):
            try:
                run(alert)
            except DomainError as error:
                messages.error(request, f"alert {alert.pk}: {error}")
            else:
                messages.success(request, f"alert {alert.pk}: {done}")

    @admin.action(description=_("Release: pay out the held drawdown"))
    def release(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda a: monitoring.drawdown_alert_release(alert_id=a.pk, actor=request.user),
            "released",
        )

    @admin.action(description=_("Reject: cancel the held drawdown"))
    def reject(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda a: monitoring.drawdown_alert_reject(
                alert_id=a.pk, reason="rejected by risk staff", actor=request.user
            ),
            "rejected",
        )


@admin.register(ApplicationReview)
class ApplicationReviewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["application", "reviewer", "verdict", "limit", "daily_rate", "created_at"]
    list_filter = ["verdict", "created_at"]
    list_select_related = ["application", "reviewer"]
    search_fields = ["=application__id", "reviewer__username", "application__borrower__name"]
    date_hierarchy = "created_at"
    fields = ["application", "reviewer", "verdict", "limit", "daily_rate", "notes", "created_at"]
    readonly_fields = fields
