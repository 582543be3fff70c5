"""Money movement: borrowers' payment accounts, gateway instructions, callbacks and settlement breaks.

Instructions are events with their own idempotency reference (the one the
gateway sees), never flags on the loan: a retry to the gateway reuses the
reference, so the gateway can never execute one instruction twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from core.fields import MoneyField
from lending.models import Borrower, Loan, Repayment


class PaymentAccount(models.Model):
    """A wallet account or a bank card of a borrower; the number is stored encrypted, hashed and masked."""

    class Kind(models.TextChoices):
        WALLET = "wallet", _("Wallet account")
        BANK_CARD = "bank_card", _("Bank card")

    borrower = models.ForeignKey(
        Borrower, verbose_name=_("borrower"), on_delete=models.PROTECT, related_name="payment_accounts"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    bank = models.CharField(_("bank"), max_length=60, help_text=_("Issuing bank, or the wallet provider"))
    number_encrypted = models.TextField(_("number encrypted"))
    number_hash = models.CharField(_("number hash"), max_length=64, db_index=True)
    number_masked = models.CharField(_("number masked"), max_length=40)
    holder_name = models.CharField(_("holder name"), max_length=120)
    for_disbursement = models.BooleanField(_("for disbursement"), default=False)
    # Position in the auto-debit list (1 is tried first); empty when the account is never debited.
    debit_priority = models.PositiveSmallIntegerField(_("debit priority"), null=True, blank=True)
    is_active = models.BooleanField(_("is active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["number_encrypted"])

    class Meta:
        verbose_name = _("payment account")
        verbose_name_plural = _("payment accounts")
        ordering = ["borrower", "debit_priority", "id"]
        constraints = [
            models.UniqueConstraint(fields=["borrower", "number_hash"], name="payment_account_unique_number"),
            models.UniqueConstraint(
                fields=["borrower"],
                condition=Q(for_disbursement=True, is_active=True),
                name="payment_account_one_for_disbursement",
            ),
            models.UniqueConstraint(
                fields=["borrower", "debit_priority"],
                condition=Q(debit_priority__isnull=False, is_active=True),
                name="payment_account_unique_debit_priority",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.bank} {self.number_masked}"


class Disbursement(ConcurrentTransitionMixin, models.Model):
    """The instruction to pay a loan out; the loan is disbursed only when the gateway confirms it."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        CONFIRMED = "confirmed", _("Confirmed")
        FAILED = "failed", _("Failed")

    loan = models.OneToOneField(Loan, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="disbursement")
    reference = models.CharField(
        _("reference"), max_length=40, unique=True, help_text=_("Our idempotency reference at the gateway")
    )
    gateway = models.CharField(_("gateway"), max_length=30)
    # "account" alone is a ledger account (a chart-of-accounts entry).
    account = models.ForeignKey(
        PaymentAccount,
        verbose_name=pgettext_lazy("payment account", "account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    amount = MoneyField(_("amount"))
    state = FSMField(_("state"), choices=State.choices, default=State.PENDING, protected=True)
    gateway_reference = models.CharField(_("gateway reference"), max_length=100, blank=True)
    value_date = models.DateField(_("value date"), null=True, blank=True)
    failure_reason = models.CharField(_("failure reason"), max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    # Set when the gateway reported something we could not apply (a confirmation after a failure, or for a
    # loan cancelled meanwhile): money may be out with no loan behind it; operations must act.
    needs_review = models.BooleanField(_("needs review"), default=False)
    review_note = models.CharField(_("review note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="disbursement_amount_positive")]

    def __str__(self):
        return f"{self.reference} {self.amount} ({self.state})"

    @transition(field=state, source=[State.PENDING, State.SENT], target=State.SENT)
    def send(self):
        pass

    @transition(field=state, source=[State.PENDING, State.SENT], target=State.CONFIRMED)
    def confirm(self):
        pass

    @transition(field=state, source=[State.PENDING, State.SENT], target=State.FAILED)
    def fail(self):
        pass


class Debit(ConcurrentTransitionMixin, models.Model):
    """One auto-debit attempt on one account for an amount due; success becomes a repayment."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    loan = models.ForeignKey(Loan, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="debits")
    account = models.ForeignKey(
        PaymentAccount,
        verbose_name=pgettext_lazy("payment account", "account"),
        on_delete=models.PROTECT,
        related_name="debits",
    )
    reference = models.CharField(
        _("reference"), max_length=40, unique=True, help_text=_("Our idempotency reference at the gateway")
    )
    gateway = models.CharField(_("gateway"), max_length=30)
    amount = MoneyField(_("amount"))
    business_date = models.DateField(_("business date"), help_text=_("Business date the attempt belongs to"))
    round = models.PositiveSmallIntegerField(_("round"), help_text=_("Retry round of the day (1 = first)"))
    state = FSMField(_("state"), choices=State.choices, default=State.PENDING, protected=True)
    gateway_reference = models.CharField(_("gateway reference"), max_length=100, blank=True)
    failure_reason = models.CharField(_("failure reason"), max_length=200, blank=True)
    repayment = models.OneToOneField(
        Repayment, verbose_name=_("repayment"), on_delete=models.PROTECT, null=True, blank=True
    )
    needs_review = models.BooleanField(_("needs review"), default=False)
    review_note = models.CharField(_("review note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("debit")
        verbose_name_plural = _("debits")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="debit_amount_positive")]
        indexes = [models.Index(fields=["loan", "state"])]

    def __str__(self):
        return f"{self.reference} {self.amount} ({self.state})"

    @transition(field=state, source=[State.PENDING, State.SENT], target=State.SENT)
    def send(self):
        pass

    @transition(field=state, source=[State.PENDING, State.SENT], target=State.SUCCEEDED)
    def succeed(self):
        pass

    @transition(field=state, source=[State.PENDING, State.SENT], target=State.FAILED)
    def fail(self):
        pass

    @transition(field=state, source=[State.PENDING, State.SENT], target=State.CANCELLED)
    def cancel(self):
        pass


class CallbackLog(models.Model):
    """Every report from a gateway, applied or refused: append-only, the record of what we were told."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        DUPLICATE = "duplicate", _("Duplicate (no effect)")
        STALE = "stale", _("Stale (no effect)")
        CONFLICT = "conflict", _("Conflict (flagged for review)")
        REFUSED = "refused", _("Refused")

    gateway = models.CharField(_("gateway"), max_length=30)
    source = models.CharField(
        _("source"), max_length=20, help_text=_("callback, reply (synchronous answer), partner, chase")
    )
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    reference = models.CharField(_("reference"), max_length=40, blank=True, db_index=True)
    gateway_reference = models.CharField(_("gateway reference"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=20, blank=True, help_text=_("What the gateway said happened"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    body = models.TextField(_("body"), blank=True, help_text=_("The raw body, capped"))

    class Meta:
        verbose_name = _("callback log")
        verbose_name_plural = _("callback logs")
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.gateway} {self.reference or '?'} {self.outcome}"


class SettlementReport(models.Model):
    """One reconciliation of a gateway's settlement file for a date against our instructions and ledger."""

    gateway = models.CharField(_("gateway"), max_length=30)
    settlement_date = models.DateField(_("settlement date"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    lines_in_file = models.PositiveIntegerField(_("lines in file"), default=0)
    matched = models.PositiveIntegerField(_("matched"), default=0)
    breaks = models.PositiveIntegerField(_("breaks"), default=0)

    class Meta:
        verbose_name = _("settlement report")
        verbose_name_plural = _("settlement reports")
        ordering = ["-settlement_date", "gateway"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "settlement_date"], name="settlement_report_once_per_day")
        ]

    def __str__(self):
        return f"{self.gateway} {self.settlement_date}: {self.matched} matched, {self.breaks} breaks"


class SettlementBreak(models.Model):
    """A difference between the file and our books; resolving it is an explicit, recorded action."""

    class Kind(models.TextChoices):
        MISSING_OURS = "missing_ours", _("In the file, not in our books")
        MISSING_THEIRS = "missing_theirs", _("In our books, not in the file")
        AMOUNT_MISMATCH = "amount_mismatch", _("Amounts differ")

    report = models.ForeignKey(
        SettlementReport, verbose_name=_("report"), on_delete=models.PROTECT, related_name="break_rows"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    reference = models.CharField(_("reference"), max_length=40)
    our_amount = MoneyField(_("our amount"), null=True, blank=True)
    their_amount = MoneyField(_("their amount"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("resolved by"), on_delete=models.PROTECT, null=True, blank=True
    )
    resolution = models.CharField(_("resolution"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("settlement break")
        verbose_name_plural = _("settlement breaks")
        ordering = ["report", "kind", "reference"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.reference}"
