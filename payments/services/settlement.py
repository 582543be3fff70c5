"""Daily settlement reconciliation: a gateway's file for a date against our instructions and ledger.

Nothing is posted here. Each line of the file is matched by our reference to
a confirmed instruction whose value date is the settlement date, and the
amount compared with the cash line the ledger holds for it (the disbursement
entry, or the repayment a debit posted). What does not match becomes a
break; resolving one is an explicit action by a named user with a note.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from core.errors import DomainError
from core.validation import text_required
from ledger import chart
from ledger.models import JournalLine
from payments.gateways import gateway_get
from payments.gateways.base import SettlementLine
from payments.models import Debit, Disbursement, SettlementBreak, SettlementReport


@dataclass(frozen=True)
class Booked:
    reference: str
    amount: Decimal | None  # the ledger's cash amount; None when the ledger has no entry for it


def _cash(**entry_filter) -> Decimal | None:
    lines = JournalLine.objects.filter(account__code=chart.CASH, **{f"entry__{k}": v for k, v in entry_filter.items()})
    totals = lines.aggregate(debit=Sum("debit"), credit=Sum("credit"))
    if totals["debit"] is None:
        return None
    return abs(totals["debit"] - totals["credit"])


def booked_for(*, gateway: str, on_date: date) -> dict[str, Booked]:
    """Our side for the date: confirmed disbursements and succeeded debits, with the ledger's cash amounts."""
    booked = {}
    disbursements = Disbursement.objects.filter(
        gateway=gateway, state=Disbursement.State.CONFIRMED, value_date=on_date
    ).select_related("loan")
    for row in disbursements:
        booked[row.reference] = Booked(row.reference, _cash(kind="disbursement", reference=row.loan.number))
    debits = Debit.objects.filter(
        gateway=gateway, state=Debit.State.SUCCEEDED, repayment__value_date=on_date
    ).select_related("repayment")
    for row in debits:
        booked[row.reference] = Booked(row.reference, _cash(reference=f"repayment:{row.repayment_id}"))
    return booked


def breaks_find(*, theirs: list[SettlementLine], ours: dict[str, Booked]) -> tuple[int, list[SettlementBreak]]:
    """Matched count and the breaks (unsaved), line by line; a reference twice in the file is a break too."""
    matched, breaks, seen = 0, [], set()
    for line in theirs:
        booked = ours.get(line.reference)
        if booked is None or booked.amount is None or line.reference in seen:
            breaks.append(SettlementBreak(kind=SettlementBreak.Kind.MISSING_OURS, reference=line.reference,
                                          their_amount=line.amount))  # fmt: skip
        elif booked.amount != line.amount:
            breaks.append(SettlementBreak(kind=SettlementBreak.Kind.AMOUNT_MISMATCH, reference=line.reference,
                                          our_amount=booked.amount, their_amount=line.amount))  # fmt: skip
        else:
            matched += 1
        seen.add(line.reference)
    for reference, booked in ours.items():
        if reference not in seen:
            breaks.append(SettlementBreak(kind=SettlementBreak.Kind.MISSING_THEIRS, reference=reference,
                                          our_amount=booked.amount))  # fmt: skip
    return matched, breaks


@transaction.atomic
def settlement_reconcile(*, gateway: str, on_date: date, lines: list[SettlementLine] | None = None) -> SettlementReport:
    """Reconcile `gateway`'s settlement for `on_date` (its file, unless `lines` are given) once; returns the report."""
    adapter = gateway_get(gateway)
    if SettlementReport.objects.filter(gateway=gateway, settlement_date=on_date).exists():
        raise DomainError("already_reconciled", f"{gateway} is already reconciled for {on_date}", field="date")
    if lines is None:
        try:
            lines = adapter.fetch_settlement_file(on_date=on_date)
        except (FileNotFoundError, ValueError) as error:
            raise DomainError("settlement_file_unreadable", str(error), field="file") from None
    matched, breaks = breaks_find(theirs=lines, ours=booked_for(gateway=gateway, on_date=on_date))
    report = SettlementReport.objects.create(
        gateway=gateway, settlement_date=on_date, lines_in_file=len(lines), matched=matched, breaks=len(breaks)
    )
    for row in breaks:
        row.report = report
        row._change_reason = "found by reconciliation"
        row.save()
    return report


@transaction.atomic
def settlement_break_resolve(*, break_id: int, resolution: str, actor) -> SettlementBreak:
    """Close a break with a note saying what was done (refund, manual posting, gateway correction)."""
    resolution = text_required(resolution, field="resolution", max_length=300)
    row = SettlementBreak.objects.select_for_update().get(pk=break_id)
    if row.resolved_at is not None:
        raise DomainError("already_resolved", "this break is already resolved", field="break")
    row.resolved_at = timezone.now()
    row.resolved_by = actor
    row.resolution = resolution
    row._change_reason = f"resolved: {resolution}"[:100]
    row.save()
    return row
