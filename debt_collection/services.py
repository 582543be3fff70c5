"""Every write in collections: assignment, contact attempts, promises, hardship, escalation, recoveries.

Each service is keyword-only and atomic, locks the case row first (one
active case per borrower, so the case row serialises everything done to a
debtor), checks its rules and raises DomainError naming the field and the
rule before anything is written.
"""

from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from core.business_date import business_date_for_write
from core.errors import DomainError
from core.validation import amount_positive, text_required
from debt_collection import conduct
from debt_collection.assignment import CaseToAssign, CollectorSlot, assign_round_robin
from debt_collection.models import (
    CaseAssignment,
    CollectionCase,
    CollectorProfile,
    ContactAttempt,
    Escalation,
    HardshipRecord,
    PromiseToPay,
    Recovery,
)
from ledger import chart
from ledger.services import EntryDraft, credit, debit, entry_post, loan_chain
from lending.models import Loan
from lending.services.restructuring import loan_restructure

COLLECTORS_GROUP = "collectors"
DEFAULT_CAPACITY = CollectorProfile._meta.get_field("capacity").default
MAX_PROMISE_DAYS = 30
MAX_PAUSE_DAYS = 90
REASON_MAX = 200

User = get_user_model()


def collectors():
    """Active staff users in the collectors group."""
    return User.objects.filter(is_active=True, is_staff=True, groups__name=COLLECTORS_GROUP)


def _collector_required(user, *, field: str):
    if user is None or not collectors().filter(pk=user.pk).exists():
        raise DomainError("not_a_collector", "must be an active staff user in the collectors group", field=field)
    return user


def _case_lock(case_id: int) -> CollectionCase:
    case = CollectionCase.objects.select_for_update().filter(pk=case_id).first()
    if case is None:
        raise DomainError("not_found", "no such collection case", field="case")
    return case


def _active_required(case: CollectionCase) -> None:
    if not case.is_active:
        raise DomainError("case_closed", f"the case is {case.state}", field="case")


def _choice(value: str, choices, *, field: str) -> str:
    if value not in choices.values:
        raise DomainError("invalid_choice", f"must be one of {', '.join(choices.values)}", field=field)
    return value


def _reason(reason: str) -> str:
    return text_required(reason, field="reason", max_length=REASON_MAX)


# --- assignment ------------------------------------------------------------------------------------


def _assignment(case, collector, *, reason: str, actor, today: date) -> CaseAssignment:
    """Move the case to `collector` (None: back to the queue) in memory; the caller saves both."""
    previous = case.collector
    case.collector = collector
    if collector is not None and case.state == CollectionCase.State.OPEN:
        case.assign()
    elif collector is None and case.state == CollectionCase.State.ASSIGNED:
        case.requeue()
    return CaseAssignment(
        case=case, collector=collector, previous_collector=previous, queue=case.queue, reason=reason,
        actor=actor, business_date=today,
    )  # fmt: skip


def cases_assign_waiting(*, business_date: date) -> int:
    """Give every workable case without a collector to one, by the round-robin strategy.

    Only cases without a collector are touched: a case keeps its collector
    while it stays in its queue (the close clears it when the queue changes).
    Priority: worst bucket first, then the oldest case.
    """
    with transaction.atomic():
        waiting = list(
            CollectionCase.objects.select_for_update()
            .filter(state__in=CollectionCase.WORKABLE, collector__isnull=True)
            .order_by("-bucket", "opened_on", "pk")
        )
        if not waiting:
            return 0
        profiles = {p.user_id: p for p in CollectorProfile.objects.all()}
        loads = dict(
            CollectionCase.objects.filter(state__in=CollectionCase.ACTIVE, collector__isnull=False)
            .values_list("collector_id")
            .annotate(n=Count("pk"))
            .values_list("collector_id", "n")
        )
        last = dict(
            CaseAssignment.objects.filter(collector__isnull=False)
            .values_list("collector_id")
            .annotate(last=Max("pk"))
            .values_list("collector_id", "last")
        )
        slots = [
            CollectorSlot(
                user_id=user_id,
                queue=profiles[user_id].queue if user_id in profiles else "",
                capacity=profiles[user_id].capacity if user_id in profiles else DEFAULT_CAPACITY,
                load=loads.get(user_id, 0),
                last_assigned=last.get(user_id, 0),
            )
            for user_id in collectors().order_by("pk").values_list("pk", flat=True)
        ]
        chosen = assign_round_robin([CaseToAssign(case.pk, case.queue) for case in waiting], slots)
        users = User.objects.in_bulk(set(chosen.values()))
        changed, records = [], []
        for case in waiting:
            if case.pk in chosen:
                records.append(
                    _assignment(case, users[chosen[case.pk]], reason="round-robin", actor=None, today=business_date)
                )
                changed.append(case)
        CollectionCase.objects.bulk_update(changed, ["collector", "state"])
        CollectionCase.history.bulk_history_create(changed, update=True, default_change_reason="assigned: round-robin")
        CaseAssignment.objects.bulk_create(records)
        return len(changed)


@transaction.atomic
def cases_reassign(*, case_ids: list[int], collector, reason: str, actor) -> list[CaseAssignment]:
    """A manager moves cases to another collector (or, with None, back to the queue), each move recorded."""
    reason = _reason(reason)
    if collector is not None:
        _collector_required(collector, field="collector")
    if not case_ids:
        raise DomainError("required", "choose at least one case", field="cases")
    today = business_date_for_write()
    cases = list(CollectionCase.objects.select_for_update().filter(pk__in=case_ids).order_by("pk"))
    if len(cases) != len(set(case_ids)):
        raise DomainError("not_found", "some of the cases do not exist", field="cases")
    closed = [case.pk for case in cases if case.state not in CollectionCase.WORKABLE]
    if closed:
        raise DomainError(
            "case_not_workable", f"cases {closed} are closed or escalated and cannot be reassigned", field="cases"
        )
    records = []
    for case in cases:
        if case.collector_id == (collector.pk if collector else None):
            continue
        records.append(_assignment(case, collector, reason=reason, actor=actor, today=today))
        case._change_reason = f"reassigned: {reason}"
        case.save()
    return CaseAssignment.objects.bulk_create(records)


# --- contact attempts and promises -----------------------------------------------------------------


def connected_calls_on_local_day(case: CollectionCase, moment: datetime) -> int:
    """Connected calls to the case's debtor on the local day of `moment`, by any collector, on any case."""
    start, end = conduct.local_day_bounds(moment, case.time_zone)
    return ContactAttempt.objects.filter(
        case__borrower_id=case.borrower_id,
        channel=ContactAttempt.Channel.CALL,
        outcome__in=conduct.CONNECTED_OUTCOMES,
        attempted_at__gte=start,
        attempted_at__lt=end,
    ).count()


def _promise_create(case, *, collector, amount, due_date, today: date, attempt=None) -> PromiseToPay:
    amount = amount_positive(amount, field="promise_amount")
    if not isinstance(due_date, date):
        raise DomainError("required", "a promise needs the date it will be paid by", field="promise_date")
    if not today <= due_date <= today + timedelta(days=MAX_PROMISE_DAYS):
        raise DomainError(
            "promise_date_out_of_range",
            f"must be between the business date {today} and {MAX_PROMISE_DAYS} days after it",
            field="promise_date",
        )
    if case.state not in CollectionCase.WORKABLE:
        raise DomainError("case_not_workable", f"a {case.state} case takes no promises", field="case")
    if case.promises.filter(state=PromiseToPay.State.PENDING).exists():
        raise DomainError(
            "promise_pending", "the case already has a pending promise; it is settled at its date", field="case"
        )
    promise = PromiseToPay.objects.create(
        case=case, amount=amount, due_date=due_date, promised_on=today, collector=collector, contact_attempt=attempt
    )
    case.promise()
    case._change_reason = f"promised {amount} by {due_date}"
    case.save()
    return promise


@transaction.atomic
def contact_attempt_log(
    *,
    case_id: int,
    collector,
    channel: str,
    outcome: str,
    party: str = ContactAttempt.Party.DEBTOR,
    attempted_at: datetime | None = None,
    notes: str = "",
    promise_amount=None,
    promise_date: date | None = None,
) -> ContactAttempt:
    """Log a contact attempt (and the promise it produced) if the conduct rules allow it.

    The clock is `attempted_at` (default: now) in the debtor's time zone. A
    refusal is a DomainError whose code names the rule broken.
    """
    channel = _choice(channel, ContactAttempt.Channel, field="channel")
    outcome = _choice(outcome, ContactAttempt.Outcome, field="outcome")
    party = _choice(party, ContactAttempt.Party, field="party")
    _collector_required(collector, field="collector")
    now = timezone.now()
    attempted_at = now if attempted_at is None else attempted_at
    if not isinstance(attempted_at, datetime) or timezone.is_naive(attempted_at):
        raise DomainError("invalid_time", "must be a date and time with its time zone", field="attempted_at")
    if attempted_at > now:
        raise DomainError("time_in_future", "an attempt is logged once it has happened", field="attempted_at")
    if len(notes) > 2000:
        raise DomainError("too_long", "must be at most 2000 characters", field="notes")
    if outcome != ContactAttempt.Outcome.PROMISE and (promise_amount is not None or promise_date is not None):
        raise DomainError("promise_without_outcome", "a promise goes with the outcome 'promise'", field="outcome")
    today = business_date_for_write()
    case = _case_lock(case_id)
    _active_required(case)
    refusal = conduct.contact_refusal(
        moment=attempted_at,
        time_zone=case.time_zone,
        party=party,
        channel=channel,
        outcome=outcome,
        connected_calls_today=connected_calls_on_local_day(case, attempted_at),
    )
    if refusal:
        raise DomainError(
            refusal.rule, refusal.message, field="party" if refusal.rule == "debtor_only" else "attempted_at"
        )
    attempt = ContactAttempt.objects.create(
        case=case, collector=collector, channel=channel, outcome=outcome, party=party, attempted_at=attempted_at,
        notes=notes, business_date=today,
    )  # fmt: skip
    if outcome == ContactAttempt.Outcome.PROMISE:
        if promise_amount is None:
            raise DomainError("required", "the promised amount is required", field="promise_amount")
        _promise_create(
            case, collector=collector, amount=promise_amount, due_date=promise_date, today=today, attempt=attempt
        )
    return attempt


@transaction.atomic
def promise_to_pay_record(*, case_id: int, collector, amount, due_date: date) -> PromiseToPay:
    """A promise received outside a logged call (e.g. through the app)."""
    _collector_required(collector, field="collector")
    today = business_date_for_write()
    case = _case_lock(case_id)
    _active_required(case)
    return _promise_create(case, collector=collector, amount=amount, due_date=due_date, today=today)


# --- hardship ---------------------------------------------------------------------------------------


def _four_eyes(requested_by, approved_by) -> None:
    if requested_by is None or not requested_by.is_staff:
        raise DomainError("not_staff", "the requester must be a staff user", field="requested_by")
    if approved_by is None or not approved_by.is_staff:
        raise DomainError("not_staff", "the approver must be a staff user", field="approved_by")
    if approved_by.pk == requested_by.pk:
        raise DomainError("four_eyes", "the approver must be someone other than the requester", field="approved_by")


@transaction.atomic
def hardship_pause(*, case_id: int, until: date, reason: str, requested_by, approved_by) -> HardshipRecord:
    """Pause the case's progression: until `until` the close keeps it in its queue.

    Lending's days past due, penalty and write-off clock are contractual and
    keep counting; the pause is collections' (no move to a harsher queue).
    """
    reason = _reason(reason)
    _four_eyes(requested_by, approved_by)
    today = business_date_for_write()
    if not isinstance(until, date) or not today < until <= today + timedelta(days=MAX_PAUSE_DAYS):
        raise DomainError(
            "pause_out_of_range", f"must be after {today} and at most {MAX_PAUSE_DAYS} days after it", field="until"
        )
    case = _case_lock(case_id)
    _active_required(case)
    case.paused_until = until
    case._change_reason = f"hardship pause until {until}: {reason}"
    case.save()
    return HardshipRecord.objects.create(
        case=case, kind=HardshipRecord.Kind.PAUSE, reason=reason, requested_by=requested_by,
        approved_by=approved_by, business_date=today, pause_until=until,
    )  # fmt: skip


def _open_loan_ids(case: CollectionCase) -> list[int]:
    return list(
        Loan.objects.filter(
            credit_line__borrower_id=case.borrower_id, state__in=[Loan.State.CURRENT, Loan.State.OVERDUE]
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _restructure_all(case, *, kind: str, reason: str, requested_by, approved_by, plan) -> HardshipRecord:
    today = business_date_for_write()
    loan_ids = _open_loan_ids(case)
    if not loan_ids:
        raise DomainError("no_open_loans", "the borrower has no open loan to restructure", field="case")
    restructures = [
        loan_restructure(loan_id=loan_id, reason=f"{kind}: {reason}", actor=approved_by, **plan(loan_id))
        for loan_id in loan_ids
    ]
    record = HardshipRecord.objects.create(
        case=case, kind=kind, reason=reason, requested_by=requested_by, approved_by=approved_by, business_date=today
    )
    record.restructures.set(restructures)
    return record


@transaction.atomic
def hardship_restructure(
    *, case_id: int, term_months: int, capitalise: bool, reason: str, requested_by, approved_by
) -> HardshipRecord:
    """Every open loan of the debtor gets a new schedule over `term_months` (see lending's loan_restructure)."""
    reason = _reason(reason)
    _four_eyes(requested_by, approved_by)
    if not isinstance(capitalise, bool):
        raise DomainError("invalid_choice", "choose to capitalise or to carry", field="capitalise")
    case = _case_lock(case_id)
    _active_required(case)
    return _restructure_all(
        case, kind=HardshipRecord.Kind.RESTRUCTURE, reason=reason, requested_by=requested_by,
        approved_by=approved_by, plan=lambda loan_id: {"term_months": term_months, "capitalise": capitalise},
    )  # fmt: skip


@transaction.atomic
def hardship_reage(*, case_id: int, reason: str, requested_by, approved_by) -> HardshipRecord:
    """Bring the debtor current: arrears capitalised and spread over each loan's remaining periods.

    A restructuring that keeps the term: the number of periods is the count
    of installments not yet due (at least one).
    """
    reason = _reason(reason)
    _four_eyes(requested_by, approved_by)
    case = _case_lock(case_id)
    _active_required(case)
    today = business_date_for_write()

    def plan(loan_id: int) -> dict:
        remaining = Loan.objects.get(pk=loan_id).installments.filter(due_date__gt=today, state="scheduled").count()
        return {"term_months": max(remaining, 1), "capitalise": True}

    return _restructure_all(
        case, kind=HardshipRecord.Kind.REAGE, reason=reason, requested_by=requested_by, approved_by=approved_by,
        plan=plan,
    )  # fmt: skip


# --- escalation and recoveries ----------------------------------------------------------------------


@transaction.atomic
def case_escalate(*, case_id: int, kind: str, reason: str, actor, agency: str = "") -> Escalation:
    """Hand the case to the legal team or a named external agency."""
    kind = _choice(kind, Escalation.Kind, field="kind")
    reason = _reason(reason)
    agency = (agency or "").strip()
    if kind == Escalation.Kind.AGENCY and not agency:
        raise DomainError("required", "name the agency the case goes to", field="agency")
    if len(agency) > 120:
        raise DomainError("too_long", "must be at most 120 characters", field="agency")
    if actor is None or not actor.is_staff:
        raise DomainError("not_staff", "escalation is done by staff", field="actor")
    today = business_date_for_write()
    case = _case_lock(case_id)
    if case.state not in CollectionCase.WORKABLE:
        raise DomainError("case_not_workable", f"a {case.state} case cannot be escalated", field="case")
    case.escalate()
    case._change_reason = f"escalated ({kind}): {reason}"
    case.save()
    return Escalation.objects.create(
        case=case, kind=kind, agency=agency, reason=reason, actor=actor, business_date=today
    )


@transaction.atomic
def recovery_post(*, case_id: int, loan_id: int, amount, source_reference: str, actor) -> Recovery:
    """Money received on a written-off loan: Dr cash, Cr recoveries (income), on the loan's chain.

    The loan's receivables were charged off, so nothing is owed on the books;
    the recovery is income. A repeated source reference is refused.
    """
    amount = amount_positive(amount, field="amount")
    source_reference = text_required(source_reference, field="source_reference", max_length=100)
    if actor is None or not actor.is_staff:
        raise DomainError("not_staff", "recoveries are posted by staff", field="actor")
    today = business_date_for_write()
    case = _case_lock(case_id)
    loan = Loan.objects.select_for_update().filter(pk=loan_id, credit_line__borrower_id=case.borrower_id).first()
    if loan is None:
        raise DomainError("not_found", "no such loan of this case's borrower", field="loan")
    if loan.state != Loan.State.WRITTEN_OFF:
        raise DomainError(
            "loan_not_written_off", f"the loan is {loan.state}; money for it is a repayment", field="loan"
        )
    if Recovery.objects.filter(loan=loan, source_reference=source_reference).exists():
        raise DomainError(
            "duplicate_reference", "this reference was already posted for the loan", field="source_reference"
        )
    entry = entry_post(
        draft=EntryDraft(
            kind="recovery",
            chain=loan_chain(loan.pk),
            reference=f"recovery:{source_reference}",
            lines=[debit(chart.CASH, amount, loan_id=loan.pk), credit(chart.RECOVERIES, amount, loan_id=loan.pk)],
        ),
        business_date=today,
    )
    return Recovery.objects.create(
        case=case, loan=loan, amount=amount, business_date=today, source_reference=source_reference,
        journal_entry=entry, actor=actor,
    )  # fmt: skip
