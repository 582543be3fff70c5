"""Charging off loans: at the write-off DPD, and residues within tolerance."""

from datetime import date

from django.db import transaction

from core.money import ZERO
from ledger import chart
from ledger.services import entry_post
from lending import engine, events, postings
from lending.locking import installments_lock, loan_lock
from lending.models import CreditLine, CreditLineChange
from lending.positions import (
    line_used_add,
    loan_balances_refresh,
    loan_sync,
    loan_terms,
    positions_load,
    positions_save,
)


@transaction.atomic
def loan_write_off(*, loan_id: int, business_date: date) -> bool:
    """Charge off everything the loan owes and close its line. False when the loan is no longer open."""
    line, loan = loan_lock(loan_id)
    if not loan.is_open:
        return False
    installments = installments_lock(loan)
    positions = positions_load(installments)
    portions = engine.write_off(positions, business_date)
    reference = f"write-off:{loan.number}"
    draft = postings.charge_off_draft(
        kind="write_off",
        expense_account=chart.WRITE_OFF_EXPENSE,
        loan_id=loan.pk,
        reference=reference,
        portions=portions,
    )
    if draft:
        entry_post(draft=draft, business_date=business_date)
    reason = f"written off at {loan.credit_line.product.write_off_dpd} days past due"
    positions_save(installments, positions, reason=reason)
    principal_before = loan.principal_outstanding
    loan_balances_refresh(loan, positions)
    line_used_add(line, loan.principal_outstanding - principal_before)
    loan.write_off()
    loan.closed_on = business_date
    loan._change_reason = reason
    loan.save()
    events.send_on_commit(events.loans_written_off, loan_ids=[loan.pk])
    if line.state != CreditLine.State.CLOSED:
        old = line.state
        line.close()
        line._change_reason = reason
        line.save(update_fields=["state"])
        change = CreditLineChange.objects.create(
            credit_line=line, field=CreditLineChange.Field.STATE, old_value=old, new_value=line.state,
            reason=f"loan {loan.number} {reason}", business_date=business_date,
        )  # fmt: skip
        events.send_on_commit(events.credit_line_changes_recorded, change_ids=[change.pk])
    return True


@transaction.atomic
def loan_residue_close(*, loan_id: int, business_date: date) -> bool:
    """Close a loan owing no more than its residue tolerance as paid off. False when there is nothing to do."""
    line, loan = loan_lock(loan_id)
    if not loan.is_open:
        return False
    installments = installments_lock(loan)
    positions = positions_load(installments)
    portions = engine.settle_residue(positions, loan_terms(loan), business_date)
    if not portions and not all(p.is_settled for p in positions):
        return False
    draft = postings.residue_draft(loan_id=loan.pk, reference=f"residue:{loan.number}", portions=portions)
    if draft:
        entry_post(draft=draft, business_date=business_date)
    positions_save(installments, positions, reason="residue within tolerance written off")
    loan_sync(loan, line, positions, today=business_date, reason="residue within tolerance written off")
    return loan.principal_outstanding == ZERO
