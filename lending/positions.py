"""Moving a loan between its database rows and the engine's in-memory positions."""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from core.bulk import rows_update
from core.money import ZERO
from lending import engine, events
from lending.delinquency import days_past_due, dpd_bucket
from lending.models import CreditLine, Installment, Loan, LoanBucketChange
from lending.schedules import RepaymentMethod, schedule_for_new_loan

POSITION_FIELDS = [
    "start_date", "due_date", "state", "principal", "interest", "fee", "penalty",
    "principal_paid", "interest_paid", "fee_paid", "penalty_paid", "accrual_start",
    "interest_settled", "penalty_accrued_exact", "penalty_accrued_through", "paid_on",
]  # fmt: skip


def loan_terms(loan: Loan) -> engine.LoanTerms:
    """The loan's contract terms, as copied from its product at drawdown."""
    return engine.LoanTerms(
        daily_rate=loan.daily_rate,
        monthly_fee_rate=loan.monthly_fee_rate,
        method=RepaymentMethod(loan.method),
        penalty_multiplier=loan.penalty_multiplier,
        grace_days=loan.grace_days,
        allocation=loan.allocation,
        component_order=tuple(loan.component_order),
        prepayment=loan.prepayment,
        residue_tolerance=loan.residue_tolerance,
    )


def original_positions(loan: Loan) -> list[engine.InstallmentPosition]:
    """The schedule as disbursed, before any payment or close of day."""
    lines = schedule_for_new_loan(
        principal=loan.principal,
        daily_rate=loan.daily_rate,
        method=RepaymentMethod(loan.method),
        start_date=loan.disbursed_on,
        term_months=loan.term_months,
        monthly_fee_rate=loan.monthly_fee_rate,
    )
    return engine.positions_from_schedule(lines)


def positions_load(installments: Sequence[Installment]) -> list[engine.InstallmentPosition]:
    return [
        engine.InstallmentPosition(
            number=row.number, id=row.pk, **{name: getattr(row, name) for name in POSITION_FIELDS}
        )
        for row in installments
    ]


# Penalty accrual changes daily; those fields are excluded from installment history (see the model).
UNHISTORIED_FIELDS = {"penalty", "penalty_accrued_exact", "penalty_accrued_through"}


def positions_save(
    installments: Sequence[Installment], positions: Sequence[engine.InstallmentPosition], *, reason: str
) -> None:
    """Write changed positions back in bulk (rows of one loan or many); history only where a recorded field changed."""
    by_id = {position.id: position for position in positions}
    recorded, unrecorded = [], []
    recorded_fields, unrecorded_fields = set(), set()
    for row in installments:
        position = by_id[row.pk]
        changed = {name for name in POSITION_FIELDS if getattr(row, name) != getattr(position, name)}
        if not changed:
            continue
        for name in changed:
            setattr(row, name, getattr(position, name))
        if changed <= UNHISTORIED_FIELDS:
            unrecorded.append(row)
            unrecorded_fields |= changed
        else:
            recorded.append(row)
            recorded_fields |= changed
    # Only the columns that changed somewhere in each group: a day's penalty accrual writes three, not sixteen.
    rows_update(Installment, recorded, sorted(recorded_fields))
    rows_update(Installment, unrecorded, sorted(unrecorded_fields))
    if recorded:
        Installment.history.bulk_history_create(recorded, update=True, default_change_reason=reason)


def loan_balances_refresh(loan: Loan, positions: Sequence[engine.InstallmentPosition]) -> None:
    """Set the loan's cached balances from its installments (what the ledger must agree with)."""
    owing = [p for p in positions if p.state != engine.WRITTEN_OFF]
    loan.principal_outstanding = sum((p.owed(engine.PRINCIPAL) for p in owing), ZERO)
    loan.interest_outstanding = sum((p.owed(engine.INTEREST) for p in owing if p.is_recognized), ZERO)
    loan.fee_outstanding = sum((p.owed(engine.FEE) for p in owing if p.is_recognized), ZERO)
    loan.penalty_outstanding = sum((p.owed(engine.PENALTY) for p in owing), ZERO)


BALANCE_FIELDS = ["principal_outstanding", "interest_outstanding", "fee_outstanding", "penalty_outstanding"]
DELINQUENCY_FIELDS = ["overdue_since", "dpd_bucket", "is_npl"]


def loan_sync(loan: Loan, line: CreditLine, positions, *, today: date, reason: str) -> None:
    """Set the loan's balances and state from its installments, and free the line's repaid principal.

    A change of state is saved with history; balances alone (a cache excluded
    from history) are written with a plain update.
    """
    principal_before, state_before = loan.principal_outstanding, loan.state
    loan_balances_refresh(loan, positions)
    line_used_add(line, loan.principal_outstanding - principal_before)
    if all(p.is_settled for p in positions):
        if loan.state != Loan.State.PAID_OFF:
            loan.pay_off()
            loan.closed_on = today
    else:
        if loan.state == Loan.State.PAID_OFF:
            loan.reopen()
            loan.closed_on = None
        overdue = any(p.state == engine.OVERDUE for p in positions)
        if overdue and loan.state == Loan.State.CURRENT:
            loan.mark_overdue()
        elif not overdue and loan.state == Loan.State.OVERDUE:
            loan.cure()
    change = delinquency_update(loan, engine.overdue_since(positions), on_date=today, npl_dpd=line.product.npl_dpd)
    if change:
        change.save()
    if loan.state != state_before:
        loan._change_reason = reason
        loan.save()
        if loan.state == Loan.State.PAID_OFF:
            events.send_on_commit(events.loans_paid_off, loan_ids=[loan.pk])
    else:
        fields = [*BALANCE_FIELDS, *DELINQUENCY_FIELDS, "closed_through"]
        Loan.objects.filter(pk=loan.pk).update(**{name: getattr(loan, name) for name in fields})


def line_used_add(line: CreditLine, delta: Decimal) -> None:
    """Move the line's used amount (a cache excluded from history; the caller holds the line lock)."""
    if delta:
        line.used += delta
        CreditLine.objects.filter(pk=line.pk).update(used=line.used)


def delinquency_update(loan: Loan, overdue_since: date | None, *, on_date: date, npl_dpd: int):
    """Move the loan's DPD fields; return a LoanBucketChange to record when the bucket moved."""
    dpd = days_past_due(overdue_since=overdue_since, on_date=on_date)
    bucket = dpd_bucket(dpd)
    change = None
    if bucket != loan.dpd_bucket:
        change = LoanBucketChange(
            loan=loan, business_date=on_date, from_bucket=loan.dpd_bucket, to_bucket=bucket, dpd=dpd
        )
    loan.overdue_since, loan.dpd_bucket, loan.is_npl = overdue_since, bucket, dpd > npl_dpd
    return change
