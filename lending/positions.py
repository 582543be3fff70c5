"""Moving a loan between its database rows and the engine's in-memory positions."""

from collections.abc import Sequence
from datetime import date

from simple_history.utils import bulk_update_with_history

from core.money import ZERO
from lending import engine
from lending.models import CreditLine, Installment, Loan, Product
from lending.schedules import RepaymentMethod, schedule_for_new_loan

POSITION_FIELDS = [
    "start_date", "due_date", "state", "principal", "interest", "fee", "penalty",
    "principal_paid", "interest_paid", "fee_paid", "penalty_paid", "accrual_start",
    "interest_settled", "penalty_accrued_exact", "penalty_accrued_through", "paid_on",
]  # fmt: skip


def loan_terms(loan: Loan, product: Product) -> engine.LoanTerms:
    return engine.LoanTerms(
        daily_rate=loan.daily_rate,
        monthly_fee_rate=loan.monthly_fee_rate,
        method=RepaymentMethod(loan.method),
        penalty_multiplier=product.penalty_multiplier,
        grace_days=product.grace_days,
        allocation=product.allocation,
        component_order=tuple(product.component_order),
        prepayment=product.prepayment,
        residue_tolerance=product.residue_tolerance,
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


def positions_save(
    installments: Sequence[Installment], positions: Sequence[engine.InstallmentPosition], *, reason: str
) -> None:
    """Write changed positions back, with history, in one UPDATE per batch."""
    by_number = {position.number: position for position in positions}
    changed = []
    for row in installments:
        position = by_number[row.number]
        if any(getattr(row, name) != getattr(position, name) for name in POSITION_FIELDS):
            for name in POSITION_FIELDS:
                setattr(row, name, getattr(position, name))
            row._change_reason = reason
            changed.append(row)
    if changed:
        bulk_update_with_history(changed, Installment, POSITION_FIELDS, default_change_reason=reason)


def loan_balances_refresh(loan: Loan, positions: Sequence[engine.InstallmentPosition]) -> None:
    """Set the loan's cached balances from its installments (what the ledger must agree with)."""
    loan.principal_outstanding = sum((p.owed(engine.PRINCIPAL) for p in positions), ZERO)
    loan.interest_outstanding = sum((p.owed(engine.INTEREST) for p in positions if p.is_recognized), ZERO)
    loan.fee_outstanding = sum((p.owed(engine.FEE) for p in positions if p.is_recognized), ZERO)
    loan.penalty_outstanding = sum((p.owed(engine.PENALTY) for p in positions), ZERO)


def loan_sync(loan: Loan, line: CreditLine, positions, *, today: date, reason: str) -> None:
    """Set the loan's balances and state from its installments, and free the line's repaid principal."""
    principal_before = loan.principal_outstanding
    loan_balances_refresh(loan, positions)
    line.used -= principal_before - loan.principal_outstanding
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
    loan._change_reason = reason
    loan.save()
    line._change_reason = reason
    line.save(update_fields=["used"])
