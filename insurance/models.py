"""Credit-guarantee insurance and loss sharing: insurers, policies, coverage, claims, funders.

Models hold data and single-row invariants; every write goes through
insurance.services (or the close of day in insurance.close), which also
posts to the ledger.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from core.fields import MoneyField, RateField
from core.money import ZERO
from ledger import chart

ONE = Decimal("1")


def _ratio_between_0_and_1(*names: str) -> Q:
    condition = Q()
    for name in names:
        condition &= Q(**{f"{name}__gte": 0, f"{name}__lte": 1})
    return condition


class Insurer(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(_("is active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("insurer")
        verbose_name_plural = _("insurers")

    def __str__(self):
        return self.name


class Policy(ConcurrentTransitionMixin, models.Model):
    """A credit-guarantee insurance policy: what it covers, what it costs, when it pays (DOMAIN.md defaults)."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        EXPIRED = "expired", _("Expired")

    insurer = models.ForeignKey(Insurer, verbose_name=_("insurer"), on_delete=models.PROTECT, related_name="policies")
    number = models.CharField(_("number"), max_length=40, unique=True)
    state = FSMField(_("state"), choices=State.choices, default=State.DRAFT, protected=True)
    principal_coverage = RateField(
        _("principal coverage"), default=ONE, help_text=_("Share of outstanding principal a claim pays")
    )
    interest_coverage = RateField(
        _("interest coverage"), default=ONE, help_text=_("Share of contract interest fallen due and unpaid")
    )
    penalty_coverage = RateField(
        _("penalty coverage"), default=ZERO, help_text=_("Share of penalty interest (not covered by default)")
    )
    # Paid by the borrower with each installment, on the period's opening principal.
    monthly_premium_rate = RateField(_("monthly premium rate"), default=Decimal("0.0025"))
    claim_trigger_dpd = models.PositiveSmallIntegerField(_("claim trigger dpd"), default=90)
    waiting_days = models.PositiveSmallIntegerField(
        _("waiting days"),
        default=0,
        help_text=_("A loan first past due within this many days of enrolment is not covered"),
    )
    stop_loss_rate = RateField(
        _("stop loss rate"),
        default=Decimal("0.05"),
        help_text=_("Paid claims per policy-year cohort, as a share of its insured principal"),
    )
    recovery_insurer_share = RateField(
        _("recovery insurer share"), default=ONE, help_text=_("Share of recoveries after payout owed to the insurer")
    )
    products = models.ManyToManyField("lending.Product", verbose_name=_("products"), related_name="insurance_policies")
    partners = models.ManyToManyField(
        "lending.Partner",
        verbose_name=_("partners"),
        blank=True,
        related_name="insurance_policies",
        help_text=_("None selected: every partner"),
    )
    effective_from = models.DateField(_("effective from"), help_text=_("Also the start of the first policy year"))
    effective_to = models.DateField(_("effective to"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
        constraints = [
            models.CheckConstraint(
                condition=_ratio_between_0_and_1(
                    "principal_coverage",
                    "interest_coverage",
                    "penalty_coverage",
                    "stop_loss_rate",
                    "recovery_insurer_share",
                ),
                name="policy_ratios_between_0_and_1",
            ),  # fmt: skip
            models.CheckConstraint(condition=Q(monthly_premium_rate__gte=0), name="policy_premium_not_negative"),
            models.CheckConstraint(condition=Q(claim_trigger_dpd__gte=1), name="policy_trigger_positive"),
            models.CheckConstraint(condition=Q(effective_to__gte=F("effective_from")), name="policy_effective_dates"),
        ]

    def __str__(self):
        return f"{self.number} ({self.insurer})"

    @transition(field=state, source=State.DRAFT, target=State.ACTIVE)
    def activate(self):
        pass

    @transition(field=state, source=State.ACTIVE, target=State.SUSPENDED)
    def suspend(self):
        pass

    @transition(field=state, source=State.SUSPENDED, target=State.ACTIVE)
    def resume(self):
        pass

    @transition(field=state, source=[State.ACTIVE, State.SUSPENDED], target=State.EXPIRED)
    def expire(self):
        pass


class Coverage(models.Model):
    """A loan enrolled under a policy at disbursement."""

    class State(models.TextChoices):
        ACTIVE = "active", _("Covered")
        COMPENSATED = "compensated", _("Compensated (代偿)")

    loan = models.OneToOneField(
        "lending.Loan", verbose_name=_("loan"), on_delete=models.PROTECT, related_name="coverage"
    )
    policy = models.ForeignKey(Policy, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="coverages")
    enrolled_on = models.DateField(_("enrolled on"))
    policy_year = models.PositiveSmallIntegerField(
        _("policy year"), help_text=_("The stop-loss cohort: 1 = the policy's first year")
    )
    insured_principal = MoneyField(_("insured principal"))
    monthly_premium_rate = RateField(_("monthly premium rate"))
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.ACTIVE)
    compensated_on = models.DateField(_("compensated on"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("coverage")
        verbose_name_plural = _("coverages")
        indexes = [models.Index(fields=["policy", "policy_year"]), models.Index(fields=["state"])]

    def __str__(self):
        return f"{self.loan} under {self.policy.number}"


class InsuranceClaim(ConcurrentTransitionMixin, models.Model):
    """A claim on a covered loan, filed by the close of day at the policy's trigger DPD (once per loan)."""

    class State(models.TextChoices):
        FILED = "filed", _("Filed")
        UNDER_REVIEW = "under_review", _("Under review")
        APPROVED = "approved", _("Approved")
        PAID = "paid", _("Paid")
        REJECTED = "rejected", _("Rejected")

    coverage = models.OneToOneField(
        Coverage, verbose_name=_("coverage"), on_delete=models.PROTECT, related_name="claim"
    )
    state = FSMField(_("state"), choices=State.choices, default=State.FILED, protected=True)
    filed_on = models.DateField(_("filed on"))
    dpd_at_filing = models.PositiveIntegerField(_("dpd at filing"))
    principal_claimed = MoneyField(_("principal claimed"))
    interest_claimed = MoneyField(_("interest claimed"))
    penalty_claimed = MoneyField(_("penalty claimed"))
    claimed_amount = MoneyField(_("claimed amount"))
    approved_amount = MoneyField(
        _("approved amount"), null=True, blank=True, help_text=_("Claimed amount within the stop-loss")
    )
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    documents_requested = models.CharField(_("documents requested"), max_length=200, blank=True)
    rejection_reason = models.CharField(_("rejection reason"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.PROTECT
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("insurance claim")
        verbose_name_plural = _("insurance claims")
        constraints = [
            models.CheckConstraint(
                condition=Q(claimed_amount=F("principal_claimed") + F("interest_claimed") + F("penalty_claimed")),
                name="claim_amount_is_its_parts",
            ),
            models.CheckConstraint(
                condition=Q(approved_amount__isnull=True)
                | Q(approved_amount__gt=0, approved_amount__lte=F("claimed_amount")),
                name="claim_approved_within_claimed",
            ),
        ]
        indexes = [models.Index(fields=["state"])]

    def __str__(self):
        return f"Claim {self.pk} on {self.coverage.loan} ({self.state})"

    @transition(field=state, source=[State.FILED, State.UNDER_REVIEW], target=State.UNDER_REVIEW)
    def request_documents(self):
        pass

    @transition(field=state, source=[State.FILED, State.UNDER_REVIEW], target=State.APPROVED)
    def approve(self):
        pass

    @transition(field=state, source=[State.FILED, State.UNDER_REVIEW], target=State.REJECTED)
    def reject(self):
        pass

    @transition(field=state, source=State.APPROVED, target=State.PAID)
    def pay(self):
        pass


class CoverageMovement(models.Model):
    """A daily ledger movement for a coverage, one per kind per day (how the close stays idempotent).

    Amounts are cumulative catch-ups: each day posts the difference between
    what the loan's events say is due and what earlier movements posted, so
    a reversed repayment is undone the next time the loan has events.
    """

    class Kind(models.TextChoices):
        PREMIUM = "premium", _("Premium collected, payable to the insurer")
        INSURER_INCOME = "insurer_income", _("Income accrued after compensation, the insurer's")
        RECOVERY = "recovery", _("Recovery routed to the insurer")
        LOSS_RELEASE = "loss_release", _("Compensated part of a write-off, borne by the insurer")

    coverage = models.ForeignKey(
        Coverage, verbose_name=_("coverage"), on_delete=models.PROTECT, related_name="movements"
    )
    business_date = models.DateField(_("business date"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    amount = MoneyField(_("amount"), help_text=_("Signed: negative undoes an earlier movement"))
    journal_entry = models.ForeignKey(
        "ledger.JournalEntry", verbose_name=_("journal entry"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("coverage movement")
        verbose_name_plural = _("coverage movements")
        ordering = ["business_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["coverage", "business_date", "kind"], name="coverage_movement_once_a_day")
        ]
        indexes = [models.Index(fields=["kind", "business_date"])]

    def __str__(self):
        return f"{self.kind} {self.amount} on {self.business_date}"


class Funder(models.Model):
    """A joint-lending funder: a bank or the platform, with its default share of each loan."""

    class Kind(models.TextChoices):
        BANK = "bank", _("Bank")
        PLATFORM = "platform", _("Platform")

    LOSS_ACCOUNTS = {Kind.BANK: chart.FUNDER_LOSS_BANK, Kind.PLATFORM: chart.FUNDER_LOSS_PLATFORM}

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    default_share = RateField(
        _("default share"), help_text=_("Share of each new loan; active funders' shares sum to 1")
    )
    is_active = models.BooleanField(_("is active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("funder")
        verbose_name_plural = _("funders")
        constraints = [models.CheckConstraint(condition=_ratio_between_0_and_1("default_share"), name="funder_share")]

    def __str__(self):
        return self.name

    @property
    def loss_account(self) -> str:
        return self.LOSS_ACCOUNTS[self.kind]


class FundingShare(models.Model):
    """One funder's share of one loan (shares of a loan sum to 1), fixed at disbursement."""

    loan = models.ForeignKey(
        "lending.Loan", verbose_name=_("loan"), on_delete=models.PROTECT, related_name="funding_shares"
    )
    funder = models.ForeignKey(Funder, verbose_name=_("funder"), on_delete=models.PROTECT, related_name="shares")
    share = RateField(_("share"))

    class Meta:
        verbose_name = _("funding share")
        verbose_name_plural = _("funding shares")
        constraints = [
            models.UniqueConstraint(fields=["loan", "funder"], name="funding_share_once_per_funder"),
            models.CheckConstraint(condition=Q(share__gt=0, share__lte=1), name="funding_share_range"),
        ]

    def __str__(self):
        return f"{self.funder} {self.share:.2%} of {self.loan_id}"


class LossAllocation(models.Model):
    """A funder's part of a written-off loan's loss not borne by an insurer (append-only)."""

    loan = models.ForeignKey(
        "lending.Loan", verbose_name=_("loan"), on_delete=models.PROTECT, related_name="loss_allocations"
    )
    funder = models.ForeignKey(
        Funder, verbose_name=_("funder"), on_delete=models.PROTECT, related_name="loss_allocations"
    )
    business_date = models.DateField(_("business date"))
    amount = MoneyField(_("amount"))
    journal_entry = models.ForeignKey(
        "ledger.JournalEntry", verbose_name=_("journal entry"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("loss allocation")
        verbose_name_plural = _("loss allocations")
        ordering = ["business_date", "loan_id", "funder_id"]
        constraints = [models.UniqueConstraint(fields=["loan", "funder"], name="loss_allocation_once_per_funder")]

    def __str__(self):
        return f"{self.funder}: {self.amount} of loan {self.loan_id}"
