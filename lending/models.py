"""Lending data: partners, borrowers, products, credit lines, loans, installments, repayments.

Models hold data and single-row invariants; state machines only change
state. Every write goes through lending.services, which locks rows in the
order credit line → loan → installments and posts to the ledger.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from core.fields import MoneyField, RateField
from core.money import ZERO
from lending.delinquency import BUCKETS
from lending.schedules import RepaymentMethod

TERM_CHOICES = [3, 6, 12]


class Partner(models.Model):
    """A channel partner that brings borrowers.

    It lives here, below the partners app, because every borrower belongs to
    one; the partners app adds the integration (API keys, webhooks).
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(_("is active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")

    def __str__(self):
        return self.name


class Borrower(models.Model):
    """A person or a micro-business. Identifiers are stored encrypted, hashed for look-up, and masked."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        BUSINESS = "business", _("Micro-business")

    partner = models.ForeignKey(Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="borrowers")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=120)
    # Person
    national_id_encrypted = models.TextField(_("national id encrypted"), blank=True)
    national_id_hash = models.CharField(_("national id hash"), max_length=64, blank=True, db_index=True)
    national_id_masked = models.CharField(_("national id masked"), max_length=32, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    monthly_income = MoneyField(_("monthly income"), null=True, blank=True)
    # Both: the contact mobile
    mobile_encrypted = models.TextField(_("mobile encrypted"))
    mobile_hash = models.CharField(_("mobile hash"), max_length=64, db_index=True)
    mobile_masked = models.CharField(_("mobile masked"), max_length=32)
    # Business
    credit_code_encrypted = models.TextField(_("credit code encrypted"), blank=True)
    credit_code_hash = models.CharField(_("credit code hash"), max_length=64, blank=True, db_index=True)
    credit_code_masked = models.CharField(_("credit code masked"), max_length=32, blank=True)
    legal_representative = models.CharField(_("legal representative"), max_length=120, blank=True)
    business_type = models.CharField(_("business type"), max_length=60, blank=True)
    business_start_date = models.DateField(_("business start date"), null=True, blank=True)

    external_reference = models.CharField(_("external reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["national_id_encrypted", "mobile_encrypted", "credit_code_encrypted"])

    class Meta:
        verbose_name = _("borrower")
        verbose_name_plural = _("borrowers")
        constraints = [
            # One borrower per person or business, whichever partner brings them.
            models.UniqueConstraint(
                fields=["national_id_hash"],
                condition=~Q(national_id_hash=""),
                name="borrower_unique_national_id",
            ),
            models.UniqueConstraint(
                fields=["credit_code_hash"],
                condition=~Q(credit_code_hash=""),
                name="borrower_unique_credit_code",
            ),
            models.CheckConstraint(
                condition=(Q(kind="person") & ~Q(national_id_hash="")) | (Q(kind="business") & ~Q(credit_code_hash="")),
                name="borrower_identifier_for_kind",
            ),
        ]

    def __str__(self):
        identifier = self.national_id_masked if self.kind == self.Kind.PERSON else self.credit_code_masked
        return f"{self.name} ({identifier})"


class Product(models.Model):
    """A credit product: every number in DOMAIN.md's product defaults is a setting here."""

    class DayCount(models.IntegerChoices):
        ACT_365 = 365, _("ACT/365")
        ACT_360 = 360, _("ACT/360")

    class Allocation(models.TextChoices):
        # Oldest installment first; inside it the component order.
        BY_INSTALLMENT = "by_installment", _("Oldest installment first, components inside it")
        # Each component across all installments (oldest first) before the next component.
        BY_COMPONENT = "by_component", _("Component by component across installments")

    class Prepayment(models.TextChoices):
        KEEP_TERM = "keep_term", _("Keep the term, lower the installment")
        KEEP_INSTALLMENT = "keep_installment", _("Keep the installment, shorten the term")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    is_active = models.BooleanField(_("is active"), default=True)
    min_limit = MoneyField(_("min limit"), default=Decimal("1000"))
    max_limit = MoneyField(_("max limit"), default=Decimal("200000"))
    min_drawdown = MoneyField(_("min drawdown"), default=Decimal("500"))
    drawdown_multiple = MoneyField(_("drawdown multiple"), default=Decimal("100"))
    min_daily_rate = RateField(_("min daily rate"), default=Decimal("0.0002"))
    default_daily_rate = RateField(_("default daily rate"), default=Decimal("0.0004"))
    max_daily_rate = RateField(_("max daily rate"), default=Decimal("0.0006"))
    day_count = models.PositiveSmallIntegerField(_("day count"), choices=DayCount.choices, default=DayCount.ACT_365)
    terms = models.JSONField(_("terms"), default=list, help_text=_("Allowed terms in months, e.g. [3, 6, 12]"))
    methods = models.JSONField(_("methods"), default=list, help_text=_("Allowed repayment methods"))
    monthly_fee_rate = RateField(
        _("monthly fee rate"), default=ZERO, help_text=_("Service fee per month on opening principal")
    )
    penalty_multiplier = models.DecimalField(
        _("penalty multiplier"), max_digits=5, decimal_places=2, default=Decimal("1.5")
    )
    grace_days = models.PositiveSmallIntegerField(_("grace days"), default=0)
    apr_cap = RateField(_("apr cap"), default=Decimal("0.24"), help_text=_("All-in nominal APR cap"))
    freeze_dpd = models.PositiveSmallIntegerField(_("freeze dpd"), default=1)
    npl_dpd = models.PositiveSmallIntegerField(_("npl dpd"), default=90)
    write_off_dpd = models.PositiveSmallIntegerField(_("write off dpd"), default=180)
    allocation = models.CharField(
        _("allocation"), max_length=20, choices=Allocation.choices, default=Allocation.BY_INSTALLMENT
    )
    component_order = models.JSONField(
        _("component order"), default=list, help_text=_("e.g. ['penalty', 'fee', 'interest', 'principal']")
    )
    prepayment = models.CharField(
        _("prepayment"), max_length=20, choices=Prepayment.choices, default=Prepayment.KEEP_TERM
    )
    residue_tolerance = MoneyField(_("residue tolerance"), default=Decimal("1.00"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(condition=Q(min_limit__gt=0, max_limit__gte=F("min_limit")), name="product_limits"),
            models.CheckConstraint(
                condition=Q(min_daily_rate__gte=0)
                & Q(default_daily_rate__gte=F("min_daily_rate"))
                & Q(max_daily_rate__gte=F("default_daily_rate")),
                name="product_rate_range",
            ),
            models.CheckConstraint(condition=Q(min_drawdown__gt=0, drawdown_multiple__gt=0), name="product_drawdown"),
        ]

    def __str__(self):
        return self.name


class CreditLine(ConcurrentTransitionMixin, models.Model):
    """A revolving limit: drawdowns use it, repaid principal frees it."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACTIVE = "active", _("Active")
        FROZEN = "frozen", _("Frozen")
        CLOSED = "closed", _("Closed")

    borrower = models.ForeignKey(
        Borrower, verbose_name=_("borrower"), on_delete=models.PROTECT, related_name="credit_lines"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="credit_lines"
    )
    state = FSMField(_("state"), choices=State.choices, default=State.PENDING, protected=True)
    limit = MoneyField(_("limit"))
    daily_rate = RateField(_("daily rate"))
    used = MoneyField(_("used"), default=ZERO, help_text=_("Principal outstanding plus loans awaiting disbursement"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    # Frozen by the close because a loan is past due: the close unfreezes it on
    # cure. A line frozen by staff stays frozen until staff unfreeze it.
    frozen_for_delinquency = models.BooleanField(_("frozen for delinquency"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # `used` is a cache of the line's loans (each drawdown and repayment is its own record).
    history = HistoricalRecords(excluded_fields=["used"])

    class Meta:
        verbose_name = _("credit line")
        verbose_name_plural = _("credit lines")
        constraints = [
            models.CheckConstraint(condition=Q(limit__gt=0), name="credit_line_limit_positive"),
            models.CheckConstraint(condition=Q(used__gte=0), name="credit_line_used_not_negative"),
            models.CheckConstraint(condition=Q(valid_until__gte=F("valid_from")), name="credit_line_validity"),
        ]

    def __str__(self):
        return f"Line {self.pk} ({self.state}, {self.limit})"

    @property
    def available(self) -> Decimal:
        return max(self.limit - self.used, ZERO)

    @transition(field=state, source=State.PENDING, target=State.ACTIVE)
    def activate(self):
        pass

    @transition(field=state, source=State.ACTIVE, target=State.FROZEN)
    def freeze(self):
        pass

    @transition(field=state, source=State.FROZEN, target=State.ACTIVE)
    def unfreeze(self):
        pass

    @transition(field=state, source=[State.PENDING, State.ACTIVE, State.FROZEN], target=State.CLOSED)
    def close(self):
        pass


class CreditLineChange(models.Model):
    """An append-only record of a change to a line's limit, rate or state, with its reason and actor."""

    class Field(models.TextChoices):
        LIMIT = "limit", _("Limit")
        DAILY_RATE = "daily_rate", _("Daily rate")
        STATE = "state", _("State")

    credit_line = models.ForeignKey(
        CreditLine, verbose_name=_("credit line"), on_delete=models.PROTECT, related_name="changes"
    )
    field = models.CharField(_("field"), max_length=20, choices=Field.choices)
    old_value = models.CharField(_("old value"), max_length=40)
    new_value = models.CharField(_("new value"), max_length=40)
    reason = models.CharField(_("reason"), max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.PROTECT
    )
    business_date = models.DateField(_("business date"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("credit line change")
        verbose_name_plural = _("credit line changes")
        ordering = ["id"]

    def __str__(self):
        return f"{self.field}: {self.old_value} → {self.new_value} ({self.reason})"


METHOD_CHOICES = [
    (RepaymentMethod.EQUAL_INSTALLMENT.value, _("Equal Installment")),
    (RepaymentMethod.EQUAL_PRINCIPAL.value, _("Equal Principal")),
    (RepaymentMethod.INTEREST_FIRST.value, _("Interest First")),
]


class Loan(ConcurrentTransitionMixin, models.Model):
    """One drawdown on a credit line, repaid by its installments.

    The balance fields are a cache of the ledger (verify_ledger reconciles
    them) so that lists and the close of day need no ledger sums.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending disbursement")
        CURRENT = "current", _("Current")
        OVERDUE = "overdue", _("Overdue")
        PAID_OFF = "paid_off", _("Paid off")
        WRITTEN_OFF = "written_off", _("Written off")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=20, unique=True)
    credit_line = models.ForeignKey(
        CreditLine, verbose_name=_("credit line"), on_delete=models.PROTECT, related_name="loans"
    )
    state = FSMField(_("state"), choices=State.choices, default=State.PENDING, protected=True)
    principal = MoneyField(_("principal"))
    term_months = models.PositiveSmallIntegerField(_("term months"))
    method = models.CharField(_("method"), max_length=20, choices=METHOD_CHOICES)
    daily_rate = RateField(_("daily rate"))
    # The fee column's monthly rate on opening principal: the product's service fee plus the
    # insurance premium (`monthly_premium_rate`, the part of it owed to the insurer).
    monthly_fee_rate = RateField(_("monthly fee rate"), default=ZERO)
    monthly_premium_rate = RateField(_("monthly premium rate"), default=ZERO)
    nominal_apr = RateField(_("nominal apr"), help_text=_("All-in nominal APR disclosed at drawdown"))
    effective_apr = RateField(_("effective apr"))
    requested_on = models.DateField(_("requested on"))
    disbursed_on = models.DateField(_("disbursed on"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, blank=True)
    # Contract terms copied from the product at drawdown: editing the product
    # later changes new loans, never signed ones.
    penalty_multiplier = models.DecimalField(_("penalty multiplier"), max_digits=5, decimal_places=2)
    grace_days = models.PositiveSmallIntegerField(_("grace days"))
    allocation = models.CharField(_("allocation"), max_length=20, choices=Product.Allocation.choices)
    component_order = models.JSONField(_("component order"))
    prepayment = models.CharField(_("prepayment"), max_length=20, choices=Product.Prepayment.choices)
    residue_tolerance = MoneyField(_("residue tolerance"))
    # The last business date whose close has processed this loan: a payment
    # arriving later that day is applied after the close, and a reversal
    # replays it in the same order.
    closed_through = models.DateField(_("closed through"), null=True, blank=True)
    # Delinquency, moved by the close of day: DPD is derived (business date −
    # overdue_since); the bucket and NPL flag are stored because they drive
    # actions, and each bucket move is a LoanBucketChange row.
    overdue_since = models.DateField(
        _("overdue since"), null=True, blank=True, help_text=_("Due date of the oldest overdue installment")
    )
    dpd_bucket = models.CharField(_("dpd bucket"), max_length=2, choices=[(b, b) for b in BUCKETS], default="M0")
    is_npl = models.BooleanField(_("is npl"), default=False)
    # Balances (cache of the ledger)
    principal_outstanding = MoneyField(_("principal outstanding"), default=ZERO)
    interest_outstanding = MoneyField(
        _("interest outstanding"), default=ZERO, help_text=_("Interest fallen due and unpaid")
    )
    fee_outstanding = MoneyField(_("fee outstanding"), default=ZERO)
    penalty_outstanding = MoneyField(_("penalty outstanding"), default=ZERO)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Balances change with every posting and penalty every day: the ledger is their history.
    history = HistoricalRecords(
        excluded_fields=[
            "principal_outstanding", "interest_outstanding", "fee_outstanding", "penalty_outstanding",
            "closed_through", "overdue_since", "dpd_bucket", "is_npl",
        ]
    )  # fmt: skip

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        constraints = [
            models.CheckConstraint(condition=Q(principal__gt=0), name="loan_principal_positive"),
            models.CheckConstraint(
                condition=Q(principal_outstanding__gte=0)
                & Q(interest_outstanding__gte=0)
                & Q(fee_outstanding__gte=0)
                & Q(penalty_outstanding__gte=0),
                name="loan_balances_not_negative",
            ),
            models.UniqueConstraint(
                fields=["credit_line", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="loan_drawdown_idempotent",
            ),
        ]
        indexes = [
            models.Index(fields=["state"]),
            models.Index(fields=["dpd_bucket", "state"]),
        ]

    def __str__(self):
        return self.number

    @transition(field=state, source=State.PENDING, target=State.CURRENT)
    def disburse(self):
        pass

    @transition(field=state, source=State.PENDING, target=State.CANCELLED)
    def cancel(self):
        pass

    @transition(field=state, source=State.CURRENT, target=State.OVERDUE)
    def mark_overdue(self):
        pass

    @transition(field=state, source=State.OVERDUE, target=State.CURRENT)
    def cure(self):
        pass

    @transition(field=state, source=[State.CURRENT, State.OVERDUE], target=State.PAID_OFF)
    def pay_off(self):
        pass

    @transition(field=state, source=[State.CURRENT, State.OVERDUE], target=State.WRITTEN_OFF)
    def write_off(self):
        pass

    # Reversing a payment can reopen a loan that the payment had paid off.
    @transition(field=state, source=State.PAID_OFF, target=State.CURRENT)
    def reopen(self):
        pass

    @property
    def is_open(self) -> bool:
        return self.state in {self.State.CURRENT, self.State.OVERDUE}

    @property
    def total_outstanding(self) -> Decimal:
        return self.principal_outstanding + self.interest_outstanding + self.fee_outstanding + self.penalty_outstanding


class Installment(models.Model):
    """One period of a loan's schedule: what is owed, what is paid.

    The state is a plain field, not a protected FSM field: the close of day
    moves thousands of installments at once with set-based updates, and a
    reversal replays a loan and may reopen a paid installment. The engine
    (lending/engine.py) is the one place that decides state.
    """

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        DUE = "due", _("Due")
        OVERDUE = "overdue", _("Overdue")
        PAID = "paid", _("Paid")
        WRITTEN_OFF = "written_off", _("Written off")
        RESTRUCTURED = "restructured", _("Moved to a new schedule")

    # No index of its own: the (loan, number) unique constraint leads with loan and serves every look-up by loan.
    loan = models.ForeignKey(
        Loan, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="installments", db_index=False
    )
    # An installment's number is its period, where a loan's or a policy's is an identifier.
    number = models.PositiveSmallIntegerField(pgettext_lazy("installment", "number"))
    start_date = models.DateField(_("start date"))
    due_date = models.DateField(_("due date"))
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.SCHEDULED)
    principal = MoneyField(_("principal"))
    interest = MoneyField(_("interest"))
    fee = MoneyField(_("fee"), default=ZERO)
    penalty = MoneyField(_("penalty"), default=ZERO)
    principal_paid = MoneyField(_("principal paid"), default=ZERO)
    interest_paid = MoneyField(_("interest paid"), default=ZERO)
    fee_paid = MoneyField(_("fee paid"), default=ZERO)
    penalty_paid = MoneyField(_("penalty paid"), default=ZERO)
    # Interest of this period is earned from `accrual_start`; what was earned
    # before (fixed by a prepayment inside the period) is `interest_settled`.
    accrual_start = models.DateField(_("accrual start"))
    interest_settled = MoneyField(_("interest settled"), default=ZERO)
    # Penalty accrues unrounded and is posted as the rounded running total, so
    # the posted penalty matches the formula to the fen over any number of days.
    penalty_accrued_exact = models.DecimalField(
        _("penalty accrued exact"), max_digits=24, decimal_places=10, default=ZERO
    )
    penalty_accrued_through = models.DateField(_("penalty accrued through"), null=True, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    # Penalty grows every day an installment is overdue; the daily postings in
    # the ledger are its history, so it would be a history row a day here.
    history = HistoricalRecords(excluded_fields=["penalty", "penalty_accrued_exact", "penalty_accrued_through"])

    class Meta:
        verbose_name = _("installment")
        verbose_name_plural = _("installments")
        ordering = ["loan_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "number"], name="installment_number_per_loan"),
            models.CheckConstraint(
                condition=Q(principal_paid__lte=F("principal"))
                & Q(interest_paid__lte=F("interest"))
                & Q(fee_paid__lte=F("fee"))
                & Q(penalty_paid__lte=F("penalty")),
                name="installment_not_overpaid",
            ),
            models.CheckConstraint(
                condition=Q(principal__gte=0, interest__gte=0, fee__gte=0, penalty__gte=0),
                name="installment_amounts_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["due_date", "state"]),
            models.Index(fields=["state", "due_date"]),
        ]

    def __str__(self):
        return f"{self.loan_id}/{self.number} due {self.due_date} ({self.state})"

    @property
    def unpaid(self) -> Decimal:
        return (
            self.principal
            - self.principal_paid
            + self.interest
            - self.interest_paid
            + self.fee
            - self.fee_paid
            + self.penalty
            - self.penalty_paid
        )


class Repayment(models.Model):
    """A payment received for a loan: an event, never edited. A reversal is its own row."""

    class Channel(models.TextChoices):
        PARTNER = "partner", _("Partner API")
        AUTO_DEBIT = "auto_debit", _("Auto-debit")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        COUNTER = "counter", _("Staff entry")

    loan = models.ForeignKey(Loan, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="repayments")
    amount = MoneyField(_("amount"))
    value_date = models.DateField(_("value date"), help_text=_("Business date the money was received"))
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.PARTNER)
    source_reference = models.CharField(_("source reference"), max_length=100, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, blank=True)
    # Arrived after the close of its value date had processed the loan (see Loan.closed_through).
    after_close = models.BooleanField(_("after close"), default=False)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("repayment")
        verbose_name_plural = _("repayments")
        ordering = ["value_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="repayment_amount_positive"),
            models.UniqueConstraint(
                fields=["loan", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="repayment_idempotent",
            ),
        ]

    def __str__(self):
        return f"{self.amount} on {self.value_date} for loan {self.loan_id}"


class RepaymentReversal(models.Model):
    """A repayment that was returned (e.g. by the bank): the loan is rebuilt as if it never arrived."""

    repayment = models.OneToOneField(
        Repayment, verbose_name=_("repayment"), on_delete=models.PROTECT, related_name="reversal"
    )
    business_date = models.DateField(_("business date"))
    reason = models.CharField(_("reason"), max_length=200)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("repayment reversal")
        verbose_name_plural = _("repayment reversals")

    def __str__(self):
        return f"Reversal of repayment {self.repayment_id}: {self.reason}"


class RepaymentAllocation(models.Model):
    """Where a repayment went, per installment and component, as posted in one ledger entry.

    An allocation is current while its journal entry is not reversed: a
    repayment reversal reverses the entries of the later repayments too and
    records their new allocations.
    """

    repayment = models.ForeignKey(
        Repayment, verbose_name=_("repayment"), on_delete=models.PROTECT, related_name="allocations"
    )
    journal_entry = models.ForeignKey(
        "ledger.JournalEntry", verbose_name=_("journal entry"), on_delete=models.PROTECT, related_name="+"
    )
    installment = models.ForeignKey(
        Installment, verbose_name=_("installment"), on_delete=models.PROTECT, related_name="allocations"
    )
    principal = MoneyField(_("principal"), default=ZERO)
    interest = MoneyField(_("interest"), default=ZERO)
    fee = MoneyField(_("fee"), default=ZERO)
    penalty = MoneyField(_("penalty"), default=ZERO)

    class Meta:
        verbose_name = _("repayment allocation")
        verbose_name_plural = _("repayment allocations")
        ordering = ["id"]

    def __str__(self):
        return f"{self.repayment_id} → installment {self.installment_id}"

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.fee + self.penalty


class LoanBucketChange(models.Model):
    """A loan moving between DPD buckets (append-only): roll rates and cure rates are read from these."""

    loan = models.ForeignKey(Loan, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="bucket_changes")
    business_date = models.DateField(_("business date"))
    from_bucket = models.CharField(_("from bucket"), max_length=2)
    to_bucket = models.CharField(_("to bucket"), max_length=2)
    dpd = models.PositiveIntegerField(_("dpd"))

    class Meta:
        verbose_name = _("loan bucket change")
        verbose_name_plural = _("loan bucket changes")
        ordering = ["business_date", "id"]
        indexes = [models.Index(fields=["business_date"]), models.Index(fields=["loan", "business_date"])]

    def __str__(self):
        return f"{self.loan_id}: {self.from_bucket} → {self.to_bucket} on {self.business_date}"


class LoanRestructure(models.Model):
    """A loan's remaining balance moved to a new schedule (hardship), append-only, with its ledger entry."""

    loan = models.ForeignKey(Loan, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="restructures")
    business_date = models.DateField(_("business date"))
    term_months = models.PositiveSmallIntegerField(_("term months"))
    capitalised = models.BooleanField(
        _("capitalised"), help_text=_("Interest, fee and penalty became principal (else carried)")
    )
    principal_before = MoneyField(_("principal before"))
    principal_after = MoneyField(_("principal after"))
    capitalised_interest = MoneyField(_("capitalised interest"), default=ZERO)
    capitalised_fee = MoneyField(_("capitalised fee"), default=ZERO)
    capitalised_penalty = MoneyField(_("capitalised penalty"), default=ZERO)
    first_new_installment = models.PositiveSmallIntegerField(_("first new installment"))
    journal_entry = models.ForeignKey(
        "ledger.JournalEntry",
        verbose_name=_("journal entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("loan restructure")
        verbose_name_plural = _("loan restructures")
        ordering = ["id"]

    def __str__(self):
        return f"Loan {self.loan_id} restructured on {self.business_date} over {self.term_months} months"
