"""Ledger entries for insurance events, each on its loan's chain.

The lines carry no loan id on purpose: a loan's lines (loan_id set) are
lending's sub-ledger, which lending reconciles with the loan's cached
balances and rebuilds when it reverses a repayment. Insurance's share of a
loan is recorded per loan by CoverageMovement, LossAllocation and the claim,
each pointing at its journal entry.
"""

from decimal import Decimal

from ledger import chart
from ledger.services import EntryDraft, LineDraft, credit, debit, loan_chain


def _entry(kind: str, loan_id: int, reference: str, lines: list[LineDraft]) -> EntryDraft:
    return EntryDraft(kind=kind, chain=loan_chain(loan_id), reference=reference, lines=lines)


def transfer_draft(
    *, kind: str, loan_id: int, reference: str, debit_account: str, credit_account: str, amount: Decimal
):
    """One amount from one account to another; a negative amount undoes an earlier transfer (sides swap)."""
    if amount < 0:
        debit_account, credit_account, amount = credit_account, debit_account, -amount
    return _entry(
        kind,
        loan_id,
        reference,
        [debit(debit_account, amount), credit(credit_account, amount)],
    )


def claim_approval_draft(*, loan_id: int, reference: str, amount: Decimal) -> EntryDraft:
    """The funder's claim on the insurer replaces the compensated part of the loan's receivables."""
    return transfer_draft(
        kind="claim_approved", loan_id=loan_id, reference=reference,
        debit_account=chart.INSURANCE_CLAIM_RECEIVABLE, credit_account=chart.COMPENSATED_LOANS, amount=amount,
    )  # fmt: skip


def claim_payout_draft(*, loan_id: int, reference: str, amount: Decimal) -> EntryDraft:
    return transfer_draft(
        kind="claim_paid", loan_id=loan_id, reference=reference,
        debit_account=chart.CASH, credit_account=chart.INSURANCE_CLAIM_RECEIVABLE, amount=amount,
    )  # fmt: skip


def insurer_income_draft(*, loan_id: int, reference: str, amounts: dict[str, Decimal]) -> EntryDraft:
    """Income the close booked for a compensated loan belongs to the insurer: out of income, into the contra."""
    total = sum(amounts.values())
    return _entry(
        "insurer_income",
        loan_id,
        reference,
        [
            *(debit(account, amount) for account, amount in sorted(amounts.items())),
            credit(chart.COMPENSATED_LOANS, total),
        ],
    )


def loss_draft(*, loan_id: int, reference: str, release: Decimal, allocations: list[tuple[str, Decimal]]) -> EntryDraft:
    """A write-off's loss moved to whoever bears it: the insurer (the compensated part) and each funder.

    The gross loss stays on write_off_expense (lending's view of the loan);
    the losses_shared contra carries what was moved, so the two net to the
    funders' losses.
    """
    lines = []
    if release > 0:
        lines.append(debit(chart.COMPENSATED_LOANS, release))
    lines += [debit(account, amount) for account, amount in allocations if amount > 0]
    total = release + sum((amount for _, amount in allocations), Decimal(0))
    lines.append(credit(chart.LOSSES_SHARED, total))
    return _entry("loss_shared", loan_id, reference, lines)
