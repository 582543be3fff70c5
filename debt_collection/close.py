"""Collections' close-of-day steps for business date D, after lending's delinquency steps, before the seal.

1. `collections.promises` (500): pending promises falling due on D, or whose
   debtor paid on D, are settled: kept when the payments between the promise
   and its date cover it, broken when the date has come and they do not.
2. `collections.cases` (510): for the borrowers whose delinquency changed on
   D (a LoanBucketChange dated D, or a loan paid off or written off on D),
   open a case at DPD ≥ 1, move it with the worst bucket of their overdue
   loans (a new queue takes the collector away), resolve it on cure, or mark
   it written off when nothing is overdue and a loan was charged off.
3. `collections.assign` (520): cases waiting for a collector get one.

Each step reads only what happened on D and is idempotent: re-running it
finds the promises already settled and the cases already where they belong.
"""

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Max, OuterRef, Q, Subquery, Sum

from core.close import close_step
from core.money import round_fen
from debt_collection import conduct
from debt_collection.models import CaseAssignment, CollectionCase, PromiseToPay
from debt_collection.services import cases_assign_waiting
from lending.models import Loan, LoanBucketChange, Repayment

CHUNK = 2000


def _paid_towards() -> Subquery:
    """Money received on the debtor's loans from the promise's date up to the date it was due (not reversed)."""
    paid = (
        Repayment.objects.filter(
            loan__credit_line__borrower_id=OuterRef("case__borrower_id"),
            value_date__gte=OuterRef("promised_on"),
            value_date__lte=OuterRef("due_date"),
            reversal__isnull=True,
        )
        .order_by()
        .values("loan__credit_line__borrower_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Subquery(paid)


@close_step("collections.promises", order=500)
def promises_settle(*, business_date: date, progress) -> dict:
    return promises_review(business_date=business_date, break_due=True)


@transaction.atomic
def promises_review(*, business_date: date, break_due: bool) -> dict:
    """Settle the pending promises that the payments so far keep; with `break_due`, break those due and unpaid.

    During the day (beat's promise checks) nothing is broken: the debtor may still pay before the close.
    """
    paid_today = Repayment.objects.filter(value_date=business_date).values("loan__credit_line__borrower_id")
    promises = list(
        PromiseToPay.objects.select_for_update(of=("self",))
        .filter(state=PromiseToPay.State.PENDING)
        .filter(Q(due_date__lte=business_date) | Q(case__borrower_id__in=paid_today))
        .annotate(paid_so_far=_paid_towards())
        .select_related("case")
        .order_by("case_id")
    )
    kept = broken = 0
    for promise in promises:
        paid = round_fen(promise.paid_so_far or 0)
        if paid >= promise.amount:
            promise.state = PromiseToPay.State.KEPT
            kept += 1
        elif break_due and promise.due_date <= business_date:
            promise.state = PromiseToPay.State.BROKEN
            broken += 1
        else:
            continue
        promise.paid, promise.settled_on = paid, business_date
        promise._change_reason = f"close of day {business_date}"
        promise.save()
        case = CollectionCase.objects.select_for_update().get(pk=promise.case_id)
        if case.state != CollectionCase.State.PROMISED:
            continue
        if promise.state == PromiseToPay.State.KEPT:
            case.keep_promise()
            if case.collector_id is None:
                case.requeue()
        else:
            case.break_promise()
        case._change_reason = f"promise {promise.state} on {business_date}"
        case.save()
    return {"kept": kept, "broken": broken}


def _changed_borrowers(business_date: date) -> set[int]:
    """Borrowers whose delinquency moved on D, and those whose hardship pause ended the day before."""
    moved = LoanBucketChange.objects.filter(business_date=business_date).values_list(
        "loan__credit_line__borrower_id", flat=True
    )
    closed = Loan.objects.filter(
        closed_on=business_date, state__in=[Loan.State.PAID_OFF, Loan.State.WRITTEN_OFF]
    ).values_list("credit_line__borrower_id", flat=True)
    unpaused = CollectionCase.objects.filter(
        state__in=CollectionCase.ACTIVE, paused_until=business_date - timedelta(days=1)
    ).values_list("borrower_id", flat=True)
    return set(moved) | set(closed) | set(unpaused)


@close_step("collections.cases", order=510)
def cases_sync(*, business_date: date, progress) -> dict:
    borrowers = sorted(_changed_borrowers(business_date))
    totals = dict.fromkeys(("opened", "moved", "resolved", "written_off"), 0)
    for start in range(0, len(borrowers), CHUNK):
        for key, count in _cases_sync_chunk(business_date, borrowers[start : start + CHUNK]).items():
            totals[key] += count
    return totals


@transaction.atomic
def _cases_sync_chunk(business_date: date, borrowers: list[int]) -> dict:
    """One transaction per chunk; a re-run after a crash finds the done chunks' cases already in place."""
    worst = dict(
        Loan.objects.filter(credit_line__borrower_id__in=borrowers, state=Loan.State.OVERDUE)
        .exclude(dpd_bucket="M0")
        .values("credit_line__borrower_id")
        .annotate(worst=Max("dpd_bucket"))
        .values_list("credit_line__borrower_id", "worst")
    )
    written_off_on: dict[int, list[date]] = {}
    for borrower_id, closed_on in Loan.objects.filter(
        credit_line__borrower_id__in=borrowers, state=Loan.State.WRITTEN_OFF
    ).values_list("credit_line__borrower_id", "closed_on"):
        written_off_on.setdefault(borrower_id, []).append(closed_on)
    cases = {
        case.borrower_id: case
        for case in CollectionCase.objects.select_for_update()
        .filter(borrower_id__in=borrowers, state__in=CollectionCase.ACTIVE)
        .order_by("pk")
    }
    opened, moved, resolved, written_off, queue_changes = [], [], [], [], []
    for borrower_id in borrowers:
        bucket, case = worst.get(borrower_id), cases.get(borrower_id)
        if bucket and case is None:
            opened.append(
                CollectionCase(
                    borrower_id=borrower_id, bucket=bucket, queue=conduct.queue_for_bucket(bucket),
                    opened_on=business_date,
                )
            )  # fmt: skip
        elif bucket and (case.bucket != bucket or case.queue != conduct.queue_for_bucket(bucket)):
            case.bucket = bucket
            queue = conduct.queue_for_bucket(bucket)
            paused = case.paused_until is not None and case.paused_until >= business_date
            # An escalated case stays with legal or the agency whatever its bucket.
            if queue != case.queue and not paused and case.state in CollectionCase.WORKABLE:
                case.queue = queue
                queue_changes.append(
                    CaseAssignment(
                        case=case, collector=None, previous_collector_id=case.collector_id, queue=queue,
                        reason=f"moved to the {queue} queue", business_date=business_date,
                    )
                )  # fmt: skip
                case.collector = None
                if case.state == CollectionCase.State.ASSIGNED:
                    case.requeue()
            moved.append(case)
        elif not bucket and case is not None:
            if any(day >= case.opened_on for day in written_off_on.get(borrower_id, [])):
                case.mark_written_off()
                written_off.append(case)
            else:
                case.resolve()
                resolved.append(case)
            case.closed_on = business_date
    if opened:
        CollectionCase.objects.bulk_create(opened)
        CollectionCase.history.bulk_history_create(opened, default_change_reason=f"opened {business_date}")
    CollectionCase.objects.bulk_update(moved, ["bucket", "queue", "collector", "state"])
    CollectionCase.objects.bulk_update([*resolved, *written_off], ["state", "closed_on"])
    recorded = [*(change.case for change in queue_changes), *resolved, *written_off]
    CollectionCase.history.bulk_history_create(
        recorded, update=True, default_change_reason=f"close of day {business_date}"
    )
    CaseAssignment.objects.bulk_create(queue_changes)
    return {"opened": len(opened), "moved": len(moved), "resolved": len(resolved), "written_off": len(written_off)}


@close_step("collections.assign", order=520)
def assign(*, business_date: date, progress) -> dict:
    return {"assigned": cases_assign_waiting(business_date=business_date)}
