"""The log of personal data revealed in clear: one row per reveal, never changed or deleted."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PiiReveal(models.Model):
    class Field(models.TextChoices):
        NATIONAL_ID = "national_id", _("National id")
        MOBILE = "mobile", _("Mobile")
        CREDIT_CODE = "credit_code", _("Unified social credit code")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="pii_reveals"
    )
    borrower = models.ForeignKey(
        "lending.Borrower", verbose_name=_("borrower"), on_delete=models.PROTECT, related_name="pii_reveals"
    )
    field = models.CharField(_("field"), max_length=20, choices=Field.choices)
    reason = models.CharField(_("reason"), max_length=200)
    revealed_at = models.DateTimeField(_("revealed at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("personal data reveal")
        verbose_name_plural = _("personal data reveals")
        ordering = ["-revealed_at", "-pk"]
        # An audit log: it is read, never added, changed or deleted by hand.
        default_permissions = ("view",)
        permissions = [("reveal_pii", _("Can reveal one borrower's personal data in clear, with a reason"))]

    def __str__(self):
        return f"{self.user} · {self.get_field_display()} · {self.borrower_id} · {self.revealed_at:%Y-%m-%d %H:%M}"
