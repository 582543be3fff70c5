"""Ledger entries for lending events, built from what the engine returns."""

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from core.money import ZERO
from ledger import chart
from ledger.services import EntryDraft, LineDraft, credit, debit, loan_chain
from lending import engine

RECEIVABLE = {
    engine.PRINCIPAL: chart.PRINCIPAL_RECEIVABLE,
    engine.INTEREST: chart.INTEREST_RECEIVABLE,
    engine.FEE: chart.FEE_RECEIVABLE,
    engine.PENALTY: chart.PENALTY_RECEIVABLE,
}
INCOME = {
    engine.INTEREST: chart.INTEREST_INCOME,
    engine.FEE: chart.FEE_INCOME,
    engine.PENALTY: chart.PENALTY_INCOME,
}


def _credit_account(portion: engine.Portion) -> str:
    if portion.component == engine.PRINCIPAL or portion.recognized:
        return RECEIVABLE[portion.component]
    return INCOME[portion.component]


def _merged(side: str, amounts: dict[str, Decimal], loan_id: int) -> list[LineDraft]:
    make = debit if side == "debit" else credit
    return [make(account, amount, loan_id=loan_id) for account, amount in sorted(amounts.items()) if amount > 0]


def disbursement_draft(*, loan_id: int, number: str, principal: Decimal) -> EntryDraft:
    return EntryDraft(
        kind="disbursement",
        chain=loan_chain(loan_id),
        reference=number,
        lines=[
            debit(chart.PRINCIPAL_RECEIVABLE, principal, loan_id=loan_id),
            credit(chart.CASH, principal, loan_id=loan_id),
        ],
    )


def repayment_draft(*, loan_id: int, reference: str, amount: Decimal, portions: Iterable[engine.Portion]) -> EntryDraft:
    credits: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for portion in portions:
        credits[_credit_account(portion)] += portion.amount
    return EntryDraft(
        kind="repayment",
        chain=loan_chain(loan_id),
        reference=reference,
        lines=[debit(chart.CASH, amount, loan_id=loan_id), *_merged("credit", credits, loan_id)],
    )


def charge_off_draft(
    *, kind: str, expense_account: str, loan_id: int, reference: str, portions: Iterable[engine.Portion]
) -> EntryDraft | None:
    """Charge what a loan still owes to an expense; interest and fee never recognized are just not charged."""
    credits: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for portion in portions:
        if portion.component == engine.PRINCIPAL or portion.recognized:
            credits[RECEIVABLE[portion.component]] += portion.amount
    total = sum(credits.values(), ZERO)
    if total == 0:
        return None
    return EntryDraft(
        kind=kind,
        chain=loan_chain(loan_id),
        reference=reference,
        lines=[debit(expense_account, total, loan_id=loan_id), *_merged("credit", credits, loan_id)],
    )


def residue_draft(*, loan_id: int, reference: str, portions: Iterable[engine.Portion]) -> EntryDraft | None:
    """Write off a balance within the residue tolerance to its own account."""
    return charge_off_draft(
        kind="residue_write_off",
        expense_account=chart.RESIDUE_WRITE_OFF_EXPENSE,
        loan_id=loan_id,
        reference=reference,
        portions=portions,
    )


def day_close_draft(*, loan_id: int, day_result: engine.DayResult, reference: str) -> EntryDraft | None:
    """Interest and fee fallen due become receivable; penalty accrued is receivable and income."""
    amounts: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for portion in [*day_result.recognized, *day_result.penalty]:
        amounts[portion.component] += portion.amount
    lines = []
    for component, amount in sorted(amounts.items()):
        if amount > 0:
            lines += [
                debit(RECEIVABLE[component], amount, loan_id=loan_id),
                credit(INCOME[component], amount, loan_id=loan_id),
            ]
    if not lines:
        return None
    return EntryDraft(kind="day_close", chain=loan_chain(loan_id), reference=reference, lines=lines)


def adjustment_draft(*, loan_id: int, reference: str, deltas: dict[str, Decimal]) -> EntryDraft | None:
    """An entry moving each account of the loan by `deltas` (net debit); they must sum to zero."""
    debits = {account: amount for account, amount in deltas.items() if amount > 0}
    credits = {account: -amount for account, amount in deltas.items() if amount < 0}
    if not debits and not credits:
        return None
    return EntryDraft(
        kind="reversal_adjustment",
        chain=loan_chain(loan_id),
        reference=reference,
        lines=[*_merged("debit", debits, loan_id), *_merged("credit", credits, loan_id)],
    )
