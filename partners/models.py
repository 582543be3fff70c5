"""The partner integration: API keys, rate limits, idempotency records, webhook endpoints, events and attempts.

The partner itself lives in lending (borrowers belong to one); everything
here hangs off it.
"""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from lending.models import Partner


class ApiKey(models.Model):
    """A partner's bearer key. Only a SHA-256 digest is stored: the key is shown once, when issued.

    Keys are 32 random bytes, so a fast digest is enough (no password
    stretching needed against guessing); the prefix names the key in logs
    and the admin without revealing it.
    """

    partner = models.ForeignKey(Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="api_keys")
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    label = models.CharField(_("label"), max_length=80, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["last_used_at"])

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self):
        return f"{self.prefix}… ({self.partner})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class PartnerApiSettings(models.Model):
    """Per-partner API limits; a partner without a row gets the defaults."""

    DEFAULT_REQUESTS_PER_MINUTE = 1200

    partner = models.OneToOneField(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, primary_key=True, related_name="api_settings"
    )
    requests_per_minute = models.PositiveIntegerField(_("requests per minute"), default=DEFAULT_REQUESTS_PER_MINUTE)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("API settings")
        verbose_name_plural = _("API settings")
        constraints = [models.CheckConstraint(condition=Q(requests_per_minute__gt=0), name="api_rate_limit_positive")]

    def __str__(self):
        return f"{self.partner}: {self.requests_per_minute}/min"


class IdempotencyRecord(models.Model):
    """One Idempotency-Key of one partner: the request's fingerprint and, once done, the response to replay."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight", _("In flight")
        COMPLETED = "completed", _("Completed")

    partner = models.ForeignKey(Partner, verbose_name=_("partner"), on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("key"), max_length=64)
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.IN_FLIGHT)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    response_body = models.JSONField(_("response body"), null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["partner", "key"], name="idempotency_key_per_partner")]

    def __str__(self):
        return f"{self.partner_id}/{self.key} ({self.state})"


class WebhookEndpoint(models.Model):
    """Where a partner receives events, and the secret that signs them."""

    partner = models.OneToOneField(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="webhook_endpoint"
    )
    url = models.URLField(_("url"), max_length=300)
    secret = models.CharField(_("secret"), max_length=100)
    is_active = models.BooleanField(_("is active"), default=True)
    history = HistoricalRecords(excluded_fields=["secret"])

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self):
        return f"{self.partner}: {self.url}"


class WebhookEvent(models.Model):
    """An event for one partner, queued after the commit that caused it, delivered with retries."""

    class Type(models.TextChoices):
        CREDIT_LINE_CHANGED = "credit_line.changed", _("Credit line changed")
        LOAN_DISBURSED = "loan.disbursed", _("Loan disbursed")
        INSTALLMENT_OVERDUE = "installment.overdue", _("Installment overdue")
        LOAN_PAID_OFF = "loan.paid_off", _("Loan paid off")
        LOAN_WRITTEN_OFF = "loan.written_off", _("Loan written off")
        APPLICATION_DECIDED = "application.decided", _("Application decided")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed (retries exhausted)")

    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="webhook_events"
    )
    type = models.CharField(_("type"), max_length=40, choices=Type.choices)
    payload = models.JSONField(_("payload"), encoder=DjangoJSONEncoder)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self):
        return f"{self.type} #{self.pk} for {self.partner} ({self.state})"


class WebhookAttempt(models.Model):
    """One delivery attempt of an event: what the partner answered, or why it failed."""

    event = models.ForeignKey(
        WebhookEvent, verbose_name=_("event"), on_delete=models.PROTECT, related_name="delivery_attempts"
    )
    number = models.PositiveSmallIntegerField(_("number"))
    url = models.URLField(_("url"), max_length=300)
    attempted_at = models.DateTimeField(_("attempted at"))
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    response_excerpt = models.CharField(_("response excerpt"), max_length=500, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration ms"))
    succeeded = models.BooleanField(_("succeeded"))

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["event_id", "number"]
        constraints = [models.UniqueConstraint(fields=["event", "number"], name="webhook_attempt_number_per_event")]

    def __str__(self):
        return f"attempt {self.number} of event {self.event_id}"
