"""verify_ledger's lending check: every loan's cached balances equal its ledger sub-ledger."""

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

from django.db.models import Sum

from core.money import ZERO, round_fen
from ledger import chart
from ledger.models import JournalLine
from ledger.verification import Problem
from lending.models import Loan

CACHED = {
    chart.PRINCIPAL_RECEIVABLE: "principal_outstanding",
    chart.INTEREST_RECEIVABLE: "interest_outstanding",
    chart.FEE_RECEIVABLE: "fee_outstanding",
    chart.PENALTY_RECEIVABLE: "penalty_outstanding",
}


def loan_balance_problems() -> Iterator[Problem]:
    ledger: dict[int, dict[str, Decimal]] = defaultdict(dict)
    rows = (
        JournalLine.objects.filter(loan_id__isnull=False, account__code__in=CACHED)
        .values("loan_id", "account__code")
        .annotate(debits=Sum("debit"), credits=Sum("credit"))
    )
    for row in rows:
        # To the fen: SQLite sums decimals as floating point (0.1 + 0.2 leaves 1E-12 behind).
        ledger[row["loan_id"]][row["account__code"]] = round_fen(row["debits"] - row["credits"])
    loans = Loan.objects.exclude(state__in=[Loan.State.PENDING, Loan.State.CANCELLED]).values(
        "id", "number", *CACHED.values()
    )
    for loan in loans.iterator(chunk_size=5000):
        for account, field in CACHED.items():
            booked = ledger.get(loan["id"], {}).get(account, ZERO)
            if booked != loan[field]:
                yield Problem(
                    "loan_balance",
                    f"loan {loan['number']}",
                    f"{field} is {loan[field]} but the ledger says {booked}",
                )
