"""Double-entry journal: accounts, entries, lines, chain heads and day seals.

Entries and lines are append-only (refused in code here, and by triggers on
PostgreSQL); a mistake is corrected by a reversing entry. Each entry belongs
to a chain (one per loan, plus "general") and stores the previous entry's
hash and its own, so an edit anywhere breaks the chain; each closed business
day is sealed with a digest over its entries chained to the previous seal.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.fields import MoneyField
from ledger.chart import ASSET, EXPENSE, INCOME, LIABILITY

GENESIS_HASH = "0" * 64


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove a ledger row."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only")

    # bulk_update is an UPDATE by another name.
    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only")


class Account(models.Model):
    class Kind(models.TextChoices):
        ASSET = ASSET, _("Asset")
        LIABILITY = LIABILITY, _("Liability")
        INCOME = INCOME, _("Income")
        EXPENSE = EXPENSE, _("Expense")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} — {self.name}"


class JournalEntry(AppendOnlyModel):
    business_date = models.DateField(_("business date"), db_index=True)
    kind = models.CharField(_("kind"), max_length=40)
    description = models.CharField(_("description"), max_length=200, blank=True)
    reference = models.CharField(
        _("reference"), max_length=100, blank=True, help_text=_("The business event's id or external reference")
    )
    reverses = models.ForeignKey(
        "self", verbose_name=_("reverses"), null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    chain = models.CharField(_("chain"), max_length=40)
    sequence = models.PositiveBigIntegerField(_("sequence"))
    previous_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "sequence"], name="ledger_entry_chain_sequence"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="ledger_entry_sequence_positive"),
            # An entry is reversed at most once.
            models.UniqueConstraint(
                fields=["reverses"], condition=Q(reverses__isnull=False), name="ledger_entry_reversed_once"
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.business_date} {self.kind} ({self.chain}/{self.sequence})"


class JournalLine(AppendOnlyModel):
    entry = models.ForeignKey(JournalEntry, verbose_name=_("entry"), on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="lines")
    # A plain id, not a foreign key: the ledger sits below lending and knows no loans.
    loan_id = models.BigIntegerField(_("loan id"), null=True, blank=True, db_index=True)
    # "debit" alone is the name of a payments model (a collection from a bank account).
    debit = MoneyField(pgettext_lazy("ledger side", "debit"), default=0)
    credit = MoneyField(pgettext_lazy("ledger side", "credit"), default=0)

    class Meta:
        verbose_name = _("journal line")
        verbose_name_plural = _("journal lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(debit__gt=0, credit=0) | Q(debit=0, credit__gt=0)),
                name="ledger_line_one_positive_side",
            ),
        ]

    def __str__(self):
        side = f"Dr {self.debit}" if self.debit else f"Cr {self.credit}"
        return f"{self.account_id} {side}"


class ChainHead(models.Model):
    """The last entry of each chain, locked to append to it.

    A cache of the chains (verify_ledger checks it): it saves finding the
    newest entry of thousands of chains when the close posts in bulk.
    """

    chain = models.CharField(_("chain"), max_length=40, primary_key=True)
    sequence = models.PositiveBigIntegerField(_("sequence"))
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("chain head")
        verbose_name_plural = _("chain heads")

    def __str__(self):
        return f"{self.chain} at #{self.sequence}"


class DaySeal(AppendOnlyModel):
    business_date = models.DateField(_("business date"), unique=True)
    entry_count = models.PositiveIntegerField(_("entry count"))
    previous_digest = models.CharField(_("previous digest"), max_length=64)
    digest = models.CharField(_("digest"), max_length=64)
    sealed_at = models.DateTimeField(_("sealed at"))

    class Meta:
        verbose_name = _("day seal")
        verbose_name_plural = _("day seals")
        ordering = ["business_date"]

    def __str__(self):
        return f"Seal {self.business_date} ({self.entry_count} entries)"
