"""Lending's close-of-day step: installments fall due, go overdue, accrue penalty.

Each loan with something happening on the day is run through the same
engine function the reversal replay uses, under the loan's row lock, in
chunks that commit separately. A re-run touches nothing twice: an
installment that fell due is no longer scheduled, and penalty records the
last day it accrued for.
"""

from datetime import date

from django.db import transaction
from django.db.models import Q

from core.close import close_step
from ledger.services import entries_post
from lending import engine, postings
from lending.locking import installments_lock, loan_lock
from lending.models import Installment
from lending.positions import loan_sync, loan_terms, positions_load, positions_save

CHUNK = 500


def loans_with_events(business_date: date) -> list[int]:
    """Loans that have an installment falling due, in grace, or overdue on the day."""
    return list(
        Installment.objects.filter(
            Q(state=Installment.State.SCHEDULED, due_date__lte=business_date)
            | Q(state__in=[Installment.State.DUE, Installment.State.OVERDUE])
        )
        .values_list("loan_id", flat=True)
        .distinct()
        .order_by("loan_id")
    )


@transaction.atomic
def _close_loans(loan_ids: list[int], business_date: date) -> int:
    drafts = []
    for loan_id in loan_ids:
        line, loan = loan_lock(loan_id)
        if not loan.is_open:
            continue
        installments = installments_lock(loan)
        positions = positions_load(installments)
        result = engine.close_day(positions, loan_terms(loan), business_date)
        draft = postings.day_close_draft(
            loan_id=loan.pk, day_result=result, reference=f"close:{business_date}"
        )
        if draft:
            drafts.append(draft)
        reason = f"close of day {business_date}"
        loan.closed_through = business_date
        positions_save(installments, positions, reason=reason)
        loan_sync(loan, line, positions, today=business_date, reason=reason)
    entries_post(drafts=drafts, business_date=business_date)
    return len(loan_ids)


@close_step("lending.installments_due_overdue_penalty", order=100)
def installments_due_overdue_penalty(*, business_date: date, progress) -> dict:
    loan_ids = loans_with_events(business_date)
    chunks = [loan_ids[i : i + CHUNK] for i in range(0, len(loan_ids), CHUNK)]
    for done, chunk in enumerate(chunks, start=1):
        _close_loans(chunk, business_date)
        progress.chunk_done("lending.installments_due_overdue_penalty", done, len(chunks))
    return {"loans": len(loan_ids)}
