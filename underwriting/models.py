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

    min_age = models.PositiveSmallIntegerField(default=18)
    max_age = models.PositiveSmallIntegerField(default=60)
    max_debt_to_income = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0.5"))
    min_credit_score = models.PositiveSmallIntegerField(default=450)
    income_cap_ratio = models.DecimalField(
        max_digits=5, decimal_places=4, default=Decimal("0.3333"), help_text="Limit at most this share of annual income"
    )
    limit_step = MoneyField(default=Decimal("100"), help_text="Limits are rounded down to a multiple of this")
    bands = models.JSONField(default=list, help_text="PD bands in ascending max_pd: decision, income multiple, rate")
    four_eyes_limit = MoneyField(default=Decimal("50000"), help_text="Reviewed limits above this need two reviewers")
    review_expiry_days = models.PositiveSmallIntegerField(default=30)
    # Drawdown monitoring
    fast_full_draw_minutes = models.PositiveIntegerField(default=30)
    fast_full_draw_share = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0.9"))
    burst_drawdowns = models.PositiveSmallIntegerField(default=3, help_text="Drawdowns within the burst window")
    burst_hours = models.PositiveSmallIntegerField(default=24)
    device_borrowers = models.PositiveSmallIntegerField(default=3, help_text="Borrowers on one device to alert")
    # Limit reassessment
    reassess_raise_pd = models.DecimalField(max_digits=6, decimal_places=4, default=Decimal("0.02"))
    reassess_lower_pd = models.DecimalField(max_digits=6, decimal_places=4, default=Decimal("0.15"))
    reassess_raise_utilisation = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0.5"))
    reassess_step = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0.2"))
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

    kind = models.CharField(max_length=20, choices=Kind.choices)
    value = models.CharField(max_length=100, help_text="Keyed hash for national id and mobile; the id for a device")
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("block list entry")
        verbose_name_plural = _("block list entries")
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="block_list_unique")]

    def __str__(self):
        return f"{self.kind}: {self.value[:12]}…"


class ModelVersion(models.Model):
    """A trained PD model: its metrics, features, training-data fingerprint and a hash-verified artifact."""

    version = models.PositiveIntegerField(unique=True)
    source = models.CharField(max_length=200, help_text="portfolio, or the CSV path")
    target = models.CharField(max_length=100)
    feature_names = models.JSONField()
    categorical = models.JSONField(default=list)
    metrics = models.JSONField()
    baseline = models.JSONField(help_text="Score deciles on the training data (population stability baseline)")
    data_fingerprint = models.CharField(max_length=64)
    artifact_path = models.CharField(max_length=300)
    artifact_sha256 = models.CharField(max_length=64)
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
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

    partner = models.ForeignKey("lending.Partner", on_delete=models.PROTECT, related_name="applications")
    borrower = models.ForeignKey("lending.Borrower", on_delete=models.PROTECT, related_name="applications")
    product = models.ForeignKey("lending.Product", on_delete=models.PROTECT, related_name="applications")
    state = FSMField(choices=State.choices, default=State.SUBMITTED, protected=True)
    requested_amount = MoneyField(null=True, blank=True)
    data = models.JSONField(help_text="The partner's data as validated (amounts as decimal strings)")
    device_id = models.CharField(max_length=100, blank=True, db_index=True)
    consent_at = models.DateTimeField(help_text="When the borrower consented to the credit-data query")
    consent_scope = models.CharField(max_length=200, help_text="What the borrower consented to")
    external_reference = models.CharField(max_length=100, blank=True)
    submitted_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    # The decision record: with `policy` and the model version it replays to the same outcome.
    decided_on = models.DateField(null=True, blank=True)
    automated_decision = models.CharField(max_length=20, blank=True)
    scorer = models.CharField(max_length=60, blank=True, help_text="model version or the built-in scorecard")
    model_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.PROTECT)
    features = models.JSONField(default=dict)
    rule_inputs = models.JSONField(default=dict, help_text="The facts the rules saw and the product's bounds")
    rule_results = models.JSONField(default=list)
    policy = models.JSONField(default=dict)
    pd = models.DecimalField(max_digits=9, decimal_places=8, null=True, blank=True)
    band = models.CharField(max_length=10, blank=True)
    offered_limit = MoneyField(null=True, blank=True)
    offered_rate = RateField(null=True, blank=True)
    reasons = models.JSONField(default=list, help_text="Reason codes and messages a borrower can read")
    credit_line = models.OneToOneField(
        "lending.CreditLine", null=True, blank=True, on_delete=models.PROTECT, related_name="application"
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

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    limit = MoneyField(null=True, blank=True)
    daily_rate = RateField(null=True, blank=True)
    notes = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

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

    credit_line = models.ForeignKey("lending.CreditLine", on_delete=models.PROTECT, related_name="limit_reviews")
    business_date = models.DateField()
    action = models.CharField(max_length=10, choices=Action.choices)
    old_limit = MoneyField()
    new_limit = MoneyField()
    pd = models.DecimalField(max_digits=9, decimal_places=8)
    reasons = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

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

    credit_line = models.ForeignKey("lending.CreditLine", on_delete=models.PROTECT, related_name="drawdown_alerts")
    loan = models.ForeignKey("lending.Loan", null=True, blank=True, on_delete=models.PROTECT)
    rule = models.CharField(max_length=20, choices=Rule.choices)
    detail = models.CharField(max_length=200)
    held = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("drawdown alert")
        verbose_name_plural = _("drawdown alerts")

    def __str__(self):
        return f"{self.get_rule_display()} (line {self.credit_line_id})"
