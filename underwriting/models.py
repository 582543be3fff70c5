"""Underwriting data: rule settings, block list, applications and their decisions, reviews, model versions,
limit reassessments and drawdown alerts.

Every write goes through underwriting.services; the models hold data,
single-row invariants and the application's state machine.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from core.fields import MoneyField, RateField

DEFAULT_BANDS = [
    {"name": "A", "max_pd": "0.02", "decision": "approve", "income_multiple": "4", "daily_rate": "0.0003"},
    {"name": "B", "max_pd": "0.05", "decision": "approve", "income_multiple": "3", "daily_rate": "0.0004"},
    {"name": "C", "max_pd": "0.10", "decision": "approve", "income_multiple": "2", "daily_rate": "0.0005"},
    {"name": "D", "max_pd": "0.20", "decision": "manual_review", "income_multiple": "1", "daily_rate": "0.0006"},
    {"name": "E", "max_pd": "1", "decision": "decline", "income_multiple": "0", "daily_rate": "0.0006"},
]
DECISIONS = {"approve", "manual_review", "decline"}


class RuleSettings(models.Model):
    """The one row of underwriting settings that risk staff edit in the admin (every change in history)."""

    SINGLETON_ID = 1

    min_age = models.PositiveSmallIntegerField(_("min age"), default=18)
    max_age = models.PositiveSmallIntegerField(_("max age"), default=60)
    max_debt_to_income = models.DecimalField(
        _("max debt to income"), max_digits=5, decimal_places=4, default=Decimal("0.5")
    )
    min_credit_score = models.PositiveSmallIntegerField(_("min credit score"), default=450)
    income_cap_ratio = models.DecimalField(
        _("income cap ratio"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.3333"),
        help_text=_("Limit at most this share of annual income"),
    )
    limit_step = MoneyField(
        _("limit step"), default=Decimal("100"), help_text=_("Limits are rounded down to a multiple of this")
    )
    bands = models.JSONField(
        _("bands"), default=list, help_text=_("PD bands in ascending max_pd: decision, income multiple, rate")
    )
    four_eyes_limit = MoneyField(
        _("four eyes limit"), default=Decimal("50000"), help_text=_("Reviewed limits above this need two reviewers")
    )
    review_expiry_days = models.PositiveSmallIntegerField(_("review expiry days"), default=30)
    # Drawdown monitoring
    fast_full_draw_minutes = models.PositiveIntegerField(_("fast full draw minutes"), default=30)
    fast_full_draw_share = models.DecimalField(
        _("fast full draw share"), max_digits=5, decimal_places=4, default=Decimal("0.9")
    )
    burst_drawdowns = models.PositiveSmallIntegerField(
        _("burst drawdowns"), default=3, help_text=_("Drawdowns within the burst window")
    )
    burst_hours = models.PositiveSmallIntegerField(_("burst hours"), default=24)
    device_borrowers = models.PositiveSmallIntegerField(
        _("device borrowers"), default=3, help_text=_("Borrowers on one device to alert")
    )
    # Limit reassessment
    reassess_raise_pd = models.DecimalField(
        _("reassess raise pd"), max_digits=6, decimal_places=4, default=Decimal("0.02")
    )
    reassess_lower_pd = models.DecimalField(
        _("reassess lower pd"), max_digits=6, decimal_places=4, default=Decimal("0.15")
    )
    reassess_raise_utilisation = models.DecimalField(
        _("reassess raise utilisation"), max_digits=5, decimal_places=4, default=Decimal("0.5")
    )
    reassess_step = models.DecimalField(_("reassess step"), max_digits=5, decimal_places=4, default=Decimal("0.2"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("rule settings")
        verbose_name_plural = _("rule settings")

    def __str__(self):
        return "Underwriting rule settings"

    def clean(self):
        if self.min_age > self.max_age:
            raise ValidationError({"max_age": "must not be below the minimum age"})
        bands = self.bands
        if not isinstance(bands, list) or not bands:
            raise ValidationError({"bands": "must be a non-empty list"})
        previous = Decimal(0)
        for band in bands:
            try:
                max_pd = Decimal(str(band["max_pd"]))
                Decimal(str(band["income_multiple"]))
                Decimal(str(band["daily_rate"]))
            except (KeyError, TypeError, ArithmeticError):
                raise ValidationError(
                    {"bands": "each band needs name, max_pd, decision, income_multiple, daily_rate"}
                ) from None
            if band.get("decision") not in DECISIONS or not band.get("name"):
                raise ValidationError({"bands": f"a band's decision must be one of {sorted(DECISIONS)}"})
            if max_pd <= previous or max_pd > 1:
                raise ValidationError({"bands": "max_pd must increase from band to band and end at 1"})
            previous = max_pd
        if previous != 1:
            raise ValidationError({"bands": "the last band's max_pd must be 1"})


class BlockListEntry(models.Model):
    """An identifier refused credit: national id or mobile (as their keyed hash) or a device id."""

    class Kind(models.TextChoices):
        NATIONAL_ID = "national_id", _("National id")
        MOBILE = "mobile", _("Mobile")
        DEVICE = "device", _("Device id")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    value = models.CharField(
        _("value"), max_length=100, help_text=_("Keyed hash for national id and mobile; the id for a device")
    )
    reason = models.CharField(_("reason"), max_length=200)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("block list entry")
        verbose_name_plural = _("block list entries")
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="block_list_unique")]

    def __str__(self):
        return f"{self.kind}: {self.value[:12]}…"


class ModelVersion(models.Model):
    """A trained PD model: its metrics, features, training-data fingerprint and a hash-verified artifact."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    source = models.CharField(_("source"), max_length=200, help_text=_("portfolio, or the CSV path"))
    target = models.CharField(_("target"), max_length=100)
    feature_names = models.JSONField(_("feature names"))
    categorical = models.JSONField(_("categorical"), default=list)
    metrics = models.JSONField(_("metrics"))
    baseline = models.JSONField(
        _("baseline"), help_text=_("Score deciles on the training data (population stability baseline)")
    )
    data_fingerprint = models.CharField(_("data fingerprint"), max_length=64)
    artifact_path = models.CharField(_("artifact path"), max_length=300)
    artifact_sha256 = models.CharField(_("artifact sha256"), max_length=64)
    is_active = models.BooleanField(_("is active"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="one_active_model")
        ]

    def __str__(self):
        return f"model v{self.version}{' (active)' if self.is_active else ''}"


class Application(ConcurrentTransitionMixin, models.Model):
    """A partner's application for a credit line, with the consent, the data and the reproducible decision."""

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        MANUAL_REVIEW = "manual_review", _("Manual review")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        EXPIRED = "expired", _("Expired")

    partner = models.ForeignKey(
        "lending.Partner", verbose_name=_("partner"), on_delete=models.PROTECT, related_name="applications"
    )
    borrower = models.ForeignKey(
        "lending.Borrower", verbose_name=_("borrower"), on_delete=models.PROTECT, related_name="applications"
    )
    product = models.ForeignKey(
        "lending.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="applications"
    )
    state = FSMField(_("state"), choices=State.choices, default=State.SUBMITTED, protected=True)
    requested_amount = MoneyField(_("requested amount"), null=True, blank=True)
    data = models.JSONField(_("data"), help_text=_("The partner's data as validated (amounts as decimal strings)"))
    device_id = models.CharField(_("device id"), max_length=100, blank=True, db_index=True)
    consent_at = models.DateTimeField(
        _("consent at"), help_text=_("When the borrower consented to the credit-data query")
    )
    consent_scope = models.CharField(_("consent scope"), max_length=200, help_text=_("What the borrower consented to"))
    external_reference = models.CharField(_("external reference"), max_length=100, blank=True)
    submitted_on = models.DateField(_("submitted on"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The decision record: with `policy` and the model version it replays to the same outcome.
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    automated_decision = models.CharField(_("automated decision"), max_length=20, blank=True)
    scorer = models.CharField(
        _("scorer"), max_length=60, blank=True, help_text=_("model version or the built-in scorecard")
    )
    model_version = models.ForeignKey(
        ModelVersion, verbose_name=_("model version"), null=True, blank=True, on_delete=models.PROTECT
    )
    features = models.JSONField(_("features"), default=dict)
    rule_inputs = models.JSONField(
        _("rule inputs"), default=dict, help_text=_("The facts the rules saw and the product's bounds")
    )
    rule_results = models.JSONField(_("rule results"), default=list)
    # The decision policy, not an insurance policy.
    policy = models.JSONField(pgettext_lazy("credit decision", "policy"), default=dict)
    pd = models.DecimalField(_("pd"), max_digits=9, decimal_places=8, null=True, blank=True)
    band = models.CharField(_("band"), max_length=10, blank=True)
    offered_limit = MoneyField(_("offered limit"), null=True, blank=True)
    offered_rate = RateField(_("offered rate"), null=True, blank=True)
    reasons = models.JSONField(_("reasons"), default=list, help_text=_("Reason codes and messages a borrower can read"))
    credit_line = models.OneToOneField(
        "lending.CreditLine",
        verbose_name=_("credit line"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="application",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        indexes = [models.Index(fields=["state", "submitted_on"])]
        # The four-eyes rule needs two reviewers; the second must be a senior underwriter (checked by the admin).
        permissions = [("approve_second", "Can give the second (four-eyes) approval of an application")]

    def __str__(self):
        return f"Application {self.pk} ({self.state})"

    @transition(field=state, source=State.SUBMITTED, target=State.APPROVED)
    def approve(self):
        pass

    @transition(field=state, source=State.SUBMITTED, target=State.DECLINED)
    def decline(self):
        pass

    @transition(field=state, source=State.SUBMITTED, target=State.MANUAL_REVIEW)
    def refer(self):
        pass

    @transition(field=state, source=State.MANUAL_REVIEW, target=State.APPROVED)
    def review_approve(self):
        pass

    @transition(field=state, source=State.MANUAL_REVIEW, target=State.DECLINED)
    def review_decline(self):
        pass

    @transition(field=state, source=[State.SUBMITTED, State.MANUAL_REVIEW], target=State.WITHDRAWN)
    def withdraw(self):
        pass

    @transition(field=state, source=State.MANUAL_REVIEW, target=State.EXPIRED)
    def expire(self):
        pass


class ApplicationReview(models.Model):
    """One reviewer's verdict on an application in manual review (append-only)."""

    class Verdict(models.TextChoices):
        APPROVE = "approve", _("Approve")
        DECLINE = "decline", _("Decline")

    application = models.ForeignKey(
        Application, verbose_name=_("application"), on_delete=models.PROTECT, related_name="reviews"
    )
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reviewer"), on_delete=models.PROTECT)
    verdict = models.CharField(_("verdict"), max_length=10, choices=Verdict.choices)
    limit = MoneyField(_("limit"), null=True, blank=True)
    daily_rate = RateField(_("daily rate"), null=True, blank=True)
    notes = models.TextField(_("notes"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("application review")
        verbose_name_plural = _("application reviews")
        ordering = ["id"]

    def __str__(self):
        return f"{self.verdict} by {self.reviewer} on application {self.application_id}"


class LimitReview(models.Model):
    """A change the periodic reassessment made to a line, with the score and reasons (append-only)."""

    class Action(models.TextChoices):
        RAISE = "raise", _("Raise")
        LOWER = "lower", _("Lower")
        FREEZE = "freeze", _("Freeze")

    credit_line = models.ForeignKey(
        "lending.CreditLine", verbose_name=_("credit line"), on_delete=models.PROTECT, related_name="limit_reviews"
    )
    business_date = models.DateField(_("business date"))
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    old_limit = MoneyField(_("old limit"))
    new_limit = MoneyField(_("new limit"))
    pd = models.DecimalField(_("pd"), max_digits=9, decimal_places=8)
    reasons = models.JSONField(_("reasons"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("limit review")
        verbose_name_plural = _("limit reviews")
        constraints = [models.UniqueConstraint(fields=["credit_line", "business_date"], name="limit_review_once_a_day")]

    def __str__(self):
        return f"{self.action} line {self.credit_line_id}: {self.old_limit} → {self.new_limit}"


class DrawdownAlert(models.Model):
    """A drawdown that matched a screening rule; a held one waits for risk staff to release or reject it."""

    class Rule(models.TextChoices):
        FAST_FULL_DRAW = "fast_full_draw", _("Most of the limit drawn soon after approval")
        BURST = "burst", _("Many drawdowns in a short window")
        SHARED_DEVICE = "shared_device", _("Many borrowers on one device")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        RELEASED = "released", _("Released")
        REJECTED = "rejected", _("Rejected")
        DISMISSED = "dismissed", _("Dismissed")

    credit_line = models.ForeignKey(
        "lending.CreditLine", verbose_name=_("credit line"), on_delete=models.PROTECT, related_name="drawdown_alerts"
    )
    loan = models.ForeignKey("lending.Loan", verbose_name=_("loan"), null=True, blank=True, on_delete=models.PROTECT)
    rule = models.CharField(_("rule"), max_length=20, choices=Rule.choices)
    detail = models.CharField(_("detail"), max_length=200)
    held = models.BooleanField(_("held"), default=False)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("resolved by"), null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("drawdown alert")
        verbose_name_plural = _("drawdown alerts")

    def __str__(self):
        return f"{self.get_rule_display()} (line {self.credit_line_id})"
