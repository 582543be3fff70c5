"""Collections data: one case per delinquent borrower, its assignments, contact attempts, promises,
hardship records, escalations and recoveries.

The case's state machine only changes state; every write goes through
debt_collection.services (or the close of day), which lock the case row,
enforce the conduct rules and record who did what. Everything but the case
and the collector profile is an append-only event row.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from core.fields import MoneyField
from core.money import ZERO
from lending.delinquency import BUCKETS

DEFAULT_TIME_ZONE = "Asia/Shanghai"


class Queue(models.TextChoices):
    """Queues by bucket and stage (see conduct.queue_for_bucket)."""

    EARLY = "early", _("Early (M1): soft reminders")
    INTENSIVE = "intensive", _("Intensive (M2–M3)")
    RECOVERY = "recovery", _("Recovery and legal (M4+)")


class CollectorProfile(models.Model):
    """How many open cases a collector can carry and which queue they work (blank: any)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="collector_profile"
    )
    capacity = models.PositiveIntegerField(_("capacity"), default=150)
    queue = models.CharField(_("queue"), max_length=12, choices=Queue.choices, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("collector profile")
        verbose_name_plural = _("collector profiles")

    def __str__(self):
        return f"{self.user} ({self.queue or 'any queue'}, {self.capacity})"


class CollectionCase(ConcurrentTransitionMixin, models.Model):
    """All of a delinquent borrower's overdue loans, worked as one case until cure or write-off."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ASSIGNED = "assigned", _("Assigned")
        PROMISED = "promised", _("Promised to pay")
        BROKEN = "broken", _("Promise broken")
        ESCALATED = "escalated", _("Escalated")
        RESOLVED = "resolved", _("Resolved (cured)")
        WRITTEN_OFF = "written_off", _("Written off")

    ACTIVE = (State.OPEN, State.ASSIGNED, State.PROMISED, State.BROKEN, State.ESCALATED)
    WORKABLE = (State.OPEN, State.ASSIGNED, State.PROMISED, State.BROKEN)

    borrower = models.ForeignKey(
        "lending.Borrower", verbose_name=_("borrower"), on_delete=models.PROTECT, related_name="collection_cases"
    )
    state = FSMField(_("state"), choices=State.choices, default=State.OPEN, protected=True)
    bucket = models.CharField(_("bucket"), max_length=2, choices=[(b, b) for b in BUCKETS])
    queue = models.CharField(_("queue"), max_length=12, choices=Queue.choices)
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("collector"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="collection_cases",
    )
    # The debtor's local time zone: the quiet hours and the daily call limit are counted in it.
    time_zone = models.CharField(_("time zone"), max_length=40, default=DEFAULT_TIME_ZONE)
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    # A hardship pause: until this date the close keeps the case in its queue.
    paused_until = models.DateField(_("paused until"), null=True, blank=True)
    # The bucket follows the borrower's loans (their LoanBucketChange rows are its record).
    history = HistoricalRecords(excluded_fields=["bucket"])

    class Meta:
        verbose_name = _("collection case")
        verbose_name_plural = _("collection cases")
        constraints = [
            models.UniqueConstraint(
                fields=["borrower"],
                condition=Q(state__in=["open", "assigned", "promised", "broken", "escalated"]),
                name="collection_case_one_active_per_borrower",
            ),
        ]
        indexes = [models.Index(fields=["state", "queue"]), models.Index(fields=["collector", "state"])]

    def __str__(self):
        return f"Case {self.pk} ({self.state}, {self.bucket})"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE

    @transition(field=state, source=State.OPEN, target=State.ASSIGNED)
    def assign(self):
        pass

    # The queue changed: the case waits for a collector of its new queue.
    @transition(field=state, source=State.ASSIGNED, target=State.OPEN)
    def requeue(self):
        pass

    @transition(field=state, source=[State.OPEN, State.ASSIGNED, State.BROKEN, State.PROMISED], target=State.PROMISED)
    def promise(self):
        pass

    @transition(field=state, source=State.PROMISED, target=State.BROKEN)
    def break_promise(self):
        pass

    @transition(field=state, source=State.PROMISED, target=State.ASSIGNED)
    def keep_promise(self):
        pass

    @transition(field=state, source=list(WORKABLE), target=State.ESCALATED)
    def escalate(self):
        pass

    @transition(field=state, source=list(ACTIVE), target=State.RESOLVED)
    def resolve(self):
        pass

    @transition(field=state, source=list(ACTIVE), target=State.WRITTEN_OFF)
    def mark_written_off(self):
        pass


class CaseAssignment(models.Model):
    """A case given to (or taken from) a collector: by the close's strategy or a manager."""

    case = models.ForeignKey(
        CollectionCase, verbose_name=_("case"), on_delete=models.PROTECT, related_name="assignments"
    )
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("collector"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    previous_collector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("previous collector"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    queue = models.CharField(_("queue"), max_length=12, choices=Queue.choices)
    reason = models.CharField(_("reason"), max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    business_date = models.DateField(_("business date"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("case assignment")
        verbose_name_plural = _("case assignments")
        ordering = ["id"]

    def __str__(self):
        return f"case {self.case_id} → {self.collector_id or 'nobody'} ({self.reason})"


class ContactAttempt(models.Model):
    """One contact attempt, logged only when the conduct rules allow it (see conduct.py)."""

    class Channel(models.TextChoices):
        CALL = "call", _("Call")
        SMS = "sms", _("SMS")
        LETTER = "letter", _("Letter")
        VISIT = "visit", _("Visit")
        APP_MESSAGE = "app_message", _("App message")

    class Outcome(models.TextChoices):
        NO_ANSWER = "no_answer", _("No answer")
        CONNECTED = "connected", _("Connected")
        PROMISE = "promise", _("Promise to pay")
        REFUSED = "refused", _("Refused to pay")
        DISPUTE = "dispute", _("Disputes the debt")
        WRONG_NUMBER = "wrong_number", _("Wrong number")
        LEFT_MESSAGE = "left_message", _("Left a message")
        DELIVERED = "delivered", _("Delivered")

    class Party(models.TextChoices):
        DEBTOR = "debtor", _("The debtor")
        THIRD_PARTY = "third_party", _("Anyone else (family, employer, listed contact)")

    case = models.ForeignKey(
        CollectionCase, verbose_name=_("case"), on_delete=models.PROTECT, related_name="contact_attempts"
    )
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("collector"), on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    party = models.CharField(_("party"), max_length=12, choices=Party.choices, default=Party.DEBTOR)
    attempted_at = models.DateTimeField(_("attempted at"))
    notes = models.TextField(_("notes"), blank=True)
    business_date = models.DateField(_("business date"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact attempt")
        verbose_name_plural = _("contact attempts")
        ordering = ["-attempted_at", "-id"]
        indexes = [models.Index(fields=["case", "attempted_at"])]

    def __str__(self):
        return f"{self.channel} {self.outcome} at {self.attempted_at:%Y-%m-%d %H:%M}"


class PromiseToPay(models.Model):
    """An amount the debtor promised to pay by a date; the close marks it kept or broken."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        KEPT = "kept", _("Kept")
        BROKEN = "broken", _("Broken")

    case = models.ForeignKey(CollectionCase, verbose_name=_("case"), on_delete=models.PROTECT, related_name="promises")
    amount = MoneyField(_("amount"))
    due_date = models.DateField(_("due date"))
    promised_on = models.DateField(_("promised on"))
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.PENDING)
    paid = MoneyField(
        _("paid"), default=ZERO, help_text=_("Paid between the promise and its date, when it was settled")
    )
    settled_on = models.DateField(_("settled on"), null=True, blank=True)
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("collector"), on_delete=models.PROTECT, related_name="+"
    )
    contact_attempt = models.ForeignKey(
        ContactAttempt,
        verbose_name=_("contact attempt"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("promise to pay")
        verbose_name_plural = _("promises to pay")
        ordering = ["-due_date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="promise_amount_positive"),
            models.CheckConstraint(condition=Q(due_date__gte=models.F("promised_on")), name="promise_date_not_past"),
            models.UniqueConstraint(fields=["case"], condition=Q(state="pending"), name="promise_one_pending_per_case"),
        ]
        indexes = [models.Index(fields=["state", "due_date"])]

    def __str__(self):
        return f"{self.amount} by {self.due_date} ({self.state})"


class HardshipRecord(models.Model):
    """A pause, re-ageing or restructuring granted to a debtor in hardship (append-only, four eyes)."""

    class Kind(models.TextChoices):
        PAUSE = "pause", _("Pause")
        REAGE = "reage", _("Re-ageing")
        RESTRUCTURE = "restructure", _("Restructuring")

    case = models.ForeignKey(
        CollectionCase, verbose_name=_("case"), on_delete=models.PROTECT, related_name="hardship_records"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=200)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approved by"), on_delete=models.PROTECT, related_name="+"
    )
    business_date = models.DateField(_("business date"))
    pause_until = models.DateField(_("pause until"), null=True, blank=True)
    restructures = models.ManyToManyField(
        "lending.LoanRestructure", verbose_name=_("restructures"), blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("hardship record")
        verbose_name_plural = _("hardship records")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~Q(requested_by=models.F("approved_by")), name="hardship_four_eyes"),
            models.CheckConstraint(
                condition=Q(kind="pause", pause_until__isnull=False) | (~Q(kind="pause") & Q(pause_until__isnull=True)),
                name="hardship_pause_has_end",
            ),
        ]

    def __str__(self):
        return f"{self.kind} for case {self.case_id}: {self.reason}"


class Escalation(models.Model):
    """A case handed to the legal team or an external agency."""

    class Kind(models.TextChoices):
        LEGAL = "legal", _("Legal action")
        AGENCY = "agency", _("External collection agency")

    case = models.ForeignKey(
        CollectionCase, verbose_name=_("case"), on_delete=models.PROTECT, related_name="escalations"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    agency = models.CharField(_("agency"), max_length=120, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), on_delete=models.PROTECT, related_name="+"
    )
    business_date = models.DateField(_("business date"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind="legal") | ~Q(agency=""), name="escalation_agency_named"),
        ]

    def __str__(self):
        return f"{self.kind} for case {self.case_id}"


class Recovery(models.Model):
    """Money recovered on a written-off loan, posted as recovery income (an event, never edited)."""

    case = models.ForeignKey(
        CollectionCase, verbose_name=_("case"), on_delete=models.PROTECT, related_name="recoveries"
    )
    loan = models.ForeignKey("lending.Loan", verbose_name=_("loan"), on_delete=models.PROTECT, related_name="+")
    amount = MoneyField(_("amount"))
    business_date = models.DateField(_("business date"))
    source_reference = models.CharField(_("source reference"), max_length=100)
    journal_entry = models.ForeignKey(
        "ledger.JournalEntry", verbose_name=_("journal entry"), on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("recovery")
        verbose_name_plural = _("recoveries")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="recovery_amount_positive"),
            models.UniqueConstraint(fields=["loan", "source_reference"], name="recovery_reference_once"),
        ]

    def __str__(self):
        return f"{self.amount} recovered on loan {self.loan_id}"
