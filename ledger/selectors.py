"""Reads of the ledger: balances by account, overall or for one loan."""

from decimal import Decimal

from django.db.models import Sum

from core.money import ZERO, round_fen
from ledger.models import JournalLine


def account_balances(*, loan_id: int | None = None) -> dict[str, Decimal]:
    """Net debit (debits − credits) per account code; a credit-normal account shows negative."""
    lines = JournalLine.objects.all()
    if loan_id is not None:
        lines = lines.filter(loan_id=loan_id)
    totals = lines.values("account__code").annotate(debits=Sum("debit"), credits=Sum("credit"))
    # SQLite sums decimals as floats: round back to the fen (exact on PostgreSQL already).
    return {row["account__code"]: round_fen(row["debits"] - row["credits"]) for row in totals}


def trial_balance_difference() -> Decimal:
    """Total debits minus total credits over the whole ledger: zero when it balances."""
    totals = JournalLine.objects.aggregate(debits=Sum("debit"), credits=Sum("credit"))
    return round_fen((totals["debits"] or ZERO) - (totals["credits"] or ZERO))
