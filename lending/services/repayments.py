"""Repayments: posting by the product's waterfall, payoff quotes, and reversal by replay."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from core.business_date import business_date_for_write
from core.errors import DomainError
from core.money import ZERO
from core.validation import amount_positive, text_required
from ledger.models import JournalEntry
from ledger.selectors import account_balances
from ledger.services import EntryDraft, entries_post, entry_post, entry_reverse
from lending import engine, events, postings
from lending.locking import installments_lock, loan_lock
from lending.models import Loan, Repayment, RepaymentAllocation, RepaymentReversal
from lending.positions import loan_sync, loan_terms, original_positions, positions_load, positions_save


@dataclass(frozen=True)
class PayoffQuote:
    loan_id: int
    on_date: date
    amount: Decimal


def payoff_quote(*, loan: Loan, on_date: date, today: date) -> PayoffQuote:
    """What pays the loan off on `on_date` (today or later): interest only for the days used.

    For a later date the loan is run forward through each close in between,
    so installments falling due and penalty accruing meanwhile are included.
    """
    if not loan.is_open:
        raise DomainError("loan_not_open", f"the loan is {loan.state}", field="loan")
    if on_date < today:
        raise DomainError("date_in_past", f"must not be before the business date {today}", field="date")
    positions = positions_load(list(loan.installments.order_by("number")))
    terms = loan_terms(loan)
    day = today if loan.closed_through != today else today + timedelta(days=1)
    while day < on_date:
        engine.close_day(positions, terms, day)
        day += timedelta(days=1)
    return PayoffQuote(loan_id=loan.pk, on_date=on_date, amount=engine.payoff_amount(positions, terms, on_date))


def _post_payment(loan: Loan, repayment: Repayment, result: engine.PaymentResult, installments, today: date) -> None:
    """Ledger entries and allocation rows for one repayment's allocation."""
    entry = entry_post(
        draft=postings.repayment_draft(
            loan_id=loan.pk,
            reference=f"repayment:{repayment.pk}",
            amount=repayment.amount,
            portions=result.portions,
        ),
        business_date=today,
    )
    _record_allocations(repayment, entry, result.portions, installments)
    residue = postings.residue_draft(loan_id=loan.pk, reference=f"repayment:{repayment.pk}", portions=result.residue)
    if residue:
        entry_post(draft=residue, business_date=today)


def _record_allocations(repayment: Repayment, entry: JournalEntry, portions, installments) -> None:
    by_number = {row.number: row for row in installments}
    amounts: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for portion in portions:
        amounts[portion.number][portion.component] += portion.amount
    RepaymentAllocation.objects.bulk_create(
        [
            RepaymentAllocation(repayment=repayment, journal_entry=entry, installment=by_number[number], **parts)
            for number, parts in sorted(amounts.items())
        ]
    )


@transaction.atomic
def repayment_post(
    *,
    loan_id: int,
    amount,
    channel: str = Repayment.Channel.PARTNER,
    source_reference: str = "",
    idempotency_key: str = "",
) -> Repayment:
    """Receive money for a loan and allocate it by the product's waterfall.

    Money beyond what has fallen due pays the current period's interest to
    date and prepays principal; more than the payoff amount is refused (the
    back office holds no credit balances). A repeated idempotency key returns
    the repayment it created.
    """
    amount = amount_positive(amount, field="amount")
    today = business_date_for_write()
    line, loan = loan_lock(loan_id)
    if idempotency_key:
        existing = Repayment.objects.filter(loan=loan, idempotency_key=idempotency_key).first()
        if existing:
            if existing.amount != amount:
                raise DomainError(
                    "idempotency_conflict", "this key was used for another repayment", field="idempotency_key"
                )
            return existing
    if not loan.is_open:
        raise DomainError("loan_not_open", f"the loan is {loan.state}; it takes no repayments", field="loan")
    installments = installments_lock(loan)
    positions = positions_load(installments)
    try:
        result = engine.apply_payment(positions, loan_terms(loan), amount, today)
    except engine.PaymentExceedsPayoff as error:
        raise DomainError(
            "exceeds_payoff", f"must not exceed the payoff amount {error.payoff}", field="amount"
        ) from None
    repayment = Repayment.objects.create(
        loan=loan,
        amount=amount,
        value_date=today,
        channel=channel,
        source_reference=source_reference,
        idempotency_key=idempotency_key,
        after_close=loan.closed_through == today,
    )
    _post_payment(loan, repayment, result, installments, today)
    positions_save(installments, positions, reason=f"repayment {repayment.pk}")
    loan_sync(loan, line, positions, today=today, reason=f"repayment {repayment.pk}")
    events.send_on_commit(events.loans_repaid, loan_ids=[loan.pk])
    return repayment


def _replay(loan: Loan, terms: engine.LoanTerms, payments: list[Repayment], today: date):
    """The loan rebuilt from its original schedule: payments and closes in the order they happened.

    Each day's payments come before that day's close, except those that
    arrived after the close had processed the loan; today is closed only if
    the close has already processed the loan today.
    """
    positions = original_positions(loan)
    results: dict[int, engine.PaymentResult] = {}
    events = {"recognized": [], "penalty": []}
    by_day: dict[date, list[Repayment]] = defaultdict(list)
    for payment in payments:
        by_day[payment.value_date].append(payment)

    def pay(day: date, *, after_close: bool) -> None:
        for payment in by_day.get(day, []):
            if payment.after_close == after_close:
                results[payment.pk] = engine.apply_payment(positions, terms, payment.amount, day)

    day = loan.disbursed_on
    while day <= today:
        pay(day, after_close=False)
        if day < today or loan.closed_through == today:
            closed = engine.close_day(positions, terms, day)
            events["recognized"] += closed.recognized
            events["penalty"] += closed.penalty
        pay(day, after_close=True)
        day += timedelta(days=1)
    return positions, results, events


def _projected_balances(loan: Loan, results, events, payments) -> dict[str, Decimal]:
    """Net debit per account the loan's ledger must show after the replay."""
    drafts: list[EntryDraft] = [
        postings.disbursement_draft(loan_id=loan.pk, number=loan.number, principal=loan.principal)
    ]
    recognized = engine.DayResult(recognized=events["recognized"], penalty=events["penalty"])
    day_draft = postings.day_close_draft(loan_id=loan.pk, day_result=recognized, reference="")
    if day_draft:
        drafts.append(day_draft)
    for payment in payments:
        result = results[payment.pk]
        drafts.append(
            postings.repayment_draft(loan_id=loan.pk, reference="", amount=payment.amount, portions=result.portions)
        )
        residue = postings.residue_draft(loan_id=loan.pk, reference="", portions=result.residue)
        if residue:
            drafts.append(residue)
    balances: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for draft in drafts:
        for line in draft.lines:
            balances[line.account] += line.debit - line.credit
    return balances


@transaction.atomic
def repayment_reverse(*, repayment_id: int, reason: str, reference: str = "", actor=None) -> RepaymentReversal:
    """Undo a repayment (returned by the bank): the loan ends exactly as if it had never arrived.

    The loan is replayed from its original schedule with the remaining
    payments and every closed day, so penalty the missing money causes is
    charged and later payments are re-allocated in date order. The ledger
    gets reversals of the affected payment entries, the later payments'
    new allocations, and one adjustment entry for the rest (penalty and
    interest recognised differently).
    """
    reason = text_required(reason, field="reason", max_length=RepaymentReversal._meta.get_field("reason").max_length)
    today = business_date_for_write()
    repayment = Repayment.objects.filter(pk=repayment_id).first()
    if repayment is None:
        raise DomainError("not_found", "no such repayment", field="repayment")
    line, loan = loan_lock(repayment.loan_id)
    if RepaymentReversal.objects.filter(repayment=repayment).exists():
        raise DomainError("already_reversed", "this repayment has already been reversed", field="repayment")
    if loan.state not in (Loan.State.CURRENT, Loan.State.OVERDUE, Loan.State.PAID_OFF):
        raise DomainError(
            "loan_not_reversible", f"repayments of a {loan.state} loan cannot be reversed", field="repayment"
        )
    # The replay rebuilds the loan from its original schedule, which a restructuring replaced.
    if loan.restructures.exists():
        raise DomainError(
            "loan_restructured", "repayments of a restructured loan cannot be reversed by replay", field="repayment"
        )
    installments = installments_lock(loan)
    terms = loan_terms(loan)
    remaining = list(
        loan.repayments.filter(reversal__isnull=True).exclude(pk=repayment.pk).order_by("value_date", "id")
    )
    later = [p for p in remaining if (p.value_date, p.pk) > (repayment.value_date, repayment.pk)]
    positions, results, events = _replay(loan, terms, remaining, today)
    row_ids = {row.number: row.pk for row in installments}
    for position in positions:
        position.id = row_ids[position.number]

    affected = RepaymentAllocation.objects.filter(repayment__in=[repayment, *later]).exclude(
        journal_entry__reversals__isnull=False
    )
    reference_text = f"reversal of repayment {repayment.pk}"
    for entry_id in sorted(set(affected.values_list("journal_entry_id", flat=True))):
        entry_reverse(entry_id=entry_id, business_date=today, reference=reference, description=reference_text)
    for payment in later:
        entry = entry_post(
            draft=postings.repayment_draft(
                loan_id=loan.pk,
                reference=f"repayment:{payment.pk}",
                amount=payment.amount,
                portions=results[payment.pk].portions,
            ),
            business_date=today,
        )
        _record_allocations(payment, entry, results[payment.pk].portions, installments)
    target = _projected_balances(loan, results, events, remaining)
    actual = account_balances(loan_id=loan.pk)
    deltas = {account: target.get(account, ZERO) - actual.get(account, ZERO) for account in set(target) | set(actual)}
    adjustment = postings.adjustment_draft(loan_id=loan.pk, reference=reference_text, deltas=deltas)
    if adjustment:
        entries_post(drafts=[adjustment], business_date=today)

    reversal = RepaymentReversal.objects.create(
        repayment=repayment, business_date=today, reason=reason.strip(), reference=reference, actor=actor
    )
    positions_save(installments, positions, reason=reference_text)
    loan_sync(loan, line, positions, today=today, reason=reference_text)
    return reversal
