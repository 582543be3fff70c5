"""Lending's close-of-day steps for business date D.

1. `lending.accrue` (chunked, fanned out over Celery with a broker):
   installments due on D fall due and their interest and fee become
   receivable; unpaid ones past due date + grace go overdue; overdue
   principal accrues penalty; days past due, the DPD bucket and the NPL flag
   move, each bucket move recorded. Only loans with something happening on
   D are read, and of those only the installments that matter (falling due,
   due or overdue), so the cost follows the day's events, not the book.
   Each chunk runs the same engine function as the reversal replay, under
   the loans' row locks, in one transaction; a loan the close has done for D
   (`closed_through`) is skipped by a re-run.
2. `lending.freeze_lines`: lines with a loan past the product's freeze DPD
   are frozen; lines frozen that way whose loans are all cured are unfrozen.
3. `lending.write_off`: loans reaching the product's write-off DPD are
   charged off and their line closed.
4. `lending.close_residues`: loans owing no more than their residue
   tolerance are closed as paid off, the residue written off.
"""

from datetime import date, timedelta
from itertools import groupby

from django.db import transaction
from django.db.models import F, Q

from core.bulk import rows_update
from core.close import chunk_transaction_tune, chunks_run, close_chunk_handler, close_step
from ledger.services import entries_post
from lending import engine, events, postings
from lending.models import CreditLine, CreditLineChange, Installment, Loan, LoanBucketChange, Product
from lending.positions import (
    BALANCE_FIELDS,
    DELINQUENCY_FIELDS,
    delinquency_update,
    loan_terms,
    positions_load,
    positions_save,
)
from lending.services.write_offs import loan_residue_close, loan_write_off

CHUNK = 2000
OPEN = [Loan.State.CURRENT, Loan.State.OVERDUE]


def _installments_with_events(business_date: date):
    return Installment.objects.filter(
        Q(state=Installment.State.SCHEDULED, due_date__lte=business_date)
        | Q(state__in=[Installment.State.DUE, Installment.State.OVERDUE])
    )


def loans_with_events(business_date: date) -> list[int]:
    """Open loans with an installment falling due, due or overdue that the close has not yet done for the day."""
    return list(
        _installments_with_events(business_date)
        .filter(loan__state__in=OPEN)
        .exclude(loan__closed_through=business_date)
        .values_list("loan_id", flat=True)
        .distinct()
        .order_by("loan_id")
    )


@close_chunk_handler("lending.accrue")
@transaction.atomic
def accrue_chunk(*, business_date: date, ids: list[int]) -> dict:
    chunk_transaction_tune()
    loans = {
        loan.pk: loan
        for loan in Loan.objects.select_for_update(of=("self",))
        .annotate(npl_dpd=F("credit_line__product__npl_dpd"))
        .filter(pk__in=ids, state__in=OPEN)
        .exclude(closed_through=business_date)
        .order_by("pk")
    }
    rows = list(_installments_with_events(business_date).filter(loan_id__in=loans.keys()).order_by("loan_id", "number"))
    drafts, bucket_changes, state_changed = [], [], []
    all_rows, all_positions = [], []
    for loan_id, group in groupby(rows, key=lambda row: row.loan_id):
        loan, loan_rows = loans[loan_id], list(group)
        positions = positions_load(loan_rows)
        result = engine.close_day(positions, loan_terms(loan), business_date)
        draft = postings.day_close_draft(loan_id=loan_id, day_result=result, reference=f"close:{business_date}")
        if draft:
            drafts.append(draft)
        for portion in [*result.recognized, *result.penalty]:
            name = f"{portion.component}_outstanding"
            setattr(loan, name, getattr(loan, name) + portion.amount)
        since = engine.overdue_since(positions)
        if since and loan.state == Loan.State.CURRENT:
            loan.mark_overdue()
            state_changed.append(loan)
        change = delinquency_update(loan, since, on_date=business_date, npl_dpd=loan.npl_dpd)
        if change:
            bucket_changes.append(change)
        all_rows += loan_rows
        all_positions += positions
    for loan in loans.values():
        loan.closed_through = business_date
    # Compared before positions_save copies the new states onto the rows (positions are in row order).
    newly_overdue = [
        row.pk
        for row, position in zip(all_rows, all_positions, strict=True)
        if position.state == engine.OVERDUE and row.state != engine.OVERDUE
    ]
    entries_post(drafts=drafts, business_date=business_date)
    positions_save(all_rows, all_positions, reason=f"close of day {business_date}")
    rows_update(Loan, list(loans.values()), [*BALANCE_FIELDS, *DELINQUENCY_FIELDS, "closed_through", "state"])
    Loan.history.bulk_history_create(state_changed, update=True, default_change_reason=f"overdue {business_date}")
    LoanBucketChange.objects.bulk_create(bucket_changes)
    events.send_on_commit(events.installments_overdue, installment_ids=newly_overdue)
    return {"loans": len(loans), "entries": len(drafts), "overdue": len(state_changed)}


@close_step("lending.accrue", order=100)
def accrue(*, business_date: date, progress) -> dict:
    loan_ids = loans_with_events(business_date)
    chunks = [loan_ids[i : i + CHUNK] for i in range(0, len(loan_ids), CHUNK)]
    results = chunks_run(handler="lending.accrue", business_date=business_date, chunks=chunks, progress=progress)
    return {key: sum(result.get(key, 0) for result in results) for key in ("loans", "entries", "overdue")}


def _past_dpd(business_date: date, setting: str) -> Q:
    """Loans whose days past due on `business_date` reach their product's `setting` (products are few)."""
    condition = Q(pk__in=[])
    for product in Product.objects.only("pk", setting):
        threshold = business_date - timedelta(days=getattr(product, setting))
        condition |= Q(credit_line__product=product, overdue_since__lte=threshold)
    return condition


def _line_change(line: CreditLine, old: str, *, reason: str, today: date) -> CreditLineChange:
    return CreditLineChange(
        credit_line=line, field=CreditLineChange.Field.STATE, old_value=old, new_value=line.state, reason=reason,
        business_date=today,
    )  # fmt: skip


@close_step("lending.freeze_lines", order=200)
@transaction.atomic
def freeze_lines(*, business_date: date, progress) -> dict:
    """No new drawdowns while any loan on the line is past due; the close lifts its own freeze on cure."""
    late = Loan.objects.filter(_past_dpd(business_date, "freeze_dpd"), state=Loan.State.OVERDUE)
    to_freeze = list(
        CreditLine.objects.select_for_update()
        .filter(state=CreditLine.State.ACTIVE, pk__in=late.values("credit_line_id"))
        .order_by("pk")
    )
    to_unfreeze = list(
        CreditLine.objects.select_for_update()
        .filter(state=CreditLine.State.FROZEN, frozen_for_delinquency=True)
        .exclude(pk__in=Loan.objects.filter(state=Loan.State.OVERDUE).values("credit_line_id"))
        .order_by("pk")
    )
    changes = []
    for line in to_freeze:
        line.freeze()
        line.frozen_for_delinquency = True
        changes.append(_line_change(line, CreditLine.State.ACTIVE, reason="a loan is past due", today=business_date))
    for line in to_unfreeze:
        line.unfreeze()
        line.frozen_for_delinquency = False
        changes.append(_line_change(line, CreditLine.State.FROZEN, reason="all loans cured", today=business_date))
    lines = to_freeze + to_unfreeze
    rows_update(CreditLine, lines, ["state", "frozen_for_delinquency"])
    CreditLine.history.bulk_history_create(lines, update=True, default_change_reason="close of day: delinquency")
    CreditLineChange.objects.bulk_create(changes)
    events.send_on_commit(events.credit_line_changes_recorded, change_ids=[change.pk for change in changes])
    return {"frozen": len(to_freeze), "unfrozen": len(to_unfreeze)}


@close_step("lending.write_off", order=300)
def write_off(*, business_date: date, progress) -> dict:
    due_for_write_off = Loan.objects.filter(_past_dpd(business_date, "write_off_dpd"), state=Loan.State.OVERDUE)
    written_off = 0
    for loan_id in due_for_write_off.order_by("pk").values_list("pk", flat=True):
        written_off += loan_write_off(loan_id=loan_id, business_date=business_date)
    return {"written_off": written_off}


@close_step("lending.close_residues", order=400)
def close_residues(*, business_date: date, progress) -> dict:
    total = F("principal_outstanding") + F("interest_outstanding") + F("fee_outstanding") + F("penalty_outstanding")
    candidates = (
        Loan.objects.filter(state__in=OPEN)
        .alias(total=total)
        .filter(total__gt=0, total__lte=F("residue_tolerance"))
        .order_by("pk")
    )
    closed = 0
    for loan_id in candidates.values_list("pk", flat=True):
        closed += loan_residue_close(loan_id=loan_id, business_date=business_date)
    return {"closed": closed}
