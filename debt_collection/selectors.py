"""Reads for the collector workbench and the collections KPIs."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from core.money import ZERO, round_fen
from debt_collection import conduct
from debt_collection.models import CollectionCase, PromiseToPay, Recovery
from debt_collection.services import connected_calls_on_local_day
from lending.delinquency import BUCKETS
from lending.models import Loan
from lending.selectors import dpd_bucket_by_loan, principal_outstanding_by_loan

RATE_QUANTUM = Decimal("0.0001")


def _owed_on_overdue_loans() -> Subquery:
    total = F("principal_outstanding") + F("interest_outstanding") + F("fee_outstanding") + F("penalty_outstanding")
    return Subquery(
        Loan.objects.filter(credit_line__borrower_id=OuterRef("borrower_id"), state=Loan.State.OVERDUE)
        .order_by()
        .values("credit_line__borrower_id")
        .annotate(owed=Sum(total))
        .values("owed"),
        output_field=DecimalField(max_digits=18, decimal_places=2),
    )


def cases_by_priority(cases: QuerySet[CollectionCase]) -> QuerySet[CollectionCase]:
    """Worst bucket first, then the most owed on overdue loans, then the soonest promise due."""
    pending_promise = PromiseToPay.objects.filter(case=OuterRef("pk"), state=PromiseToPay.State.PENDING)
    return cases.annotate(
        amount_overdue=Coalesce(_owed_on_overdue_loans(), Value(ZERO), output_field=DecimalField()),
        promise_due=Subquery(pending_promise.values("due_date")[:1]),
    ).order_by("-bucket", "-amount_overdue", F("promise_due").asc(nulls_last=True), "opened_on", "pk")


def case_queue(*, collector=None) -> QuerySet[CollectionCase]:
    """Active cases by priority, all or one collector's ("my queue")."""
    cases = CollectionCase.objects.filter(state__in=CollectionCase.ACTIVE)
    if collector is not None:
        cases = cases.filter(collector=collector)
    return cases_by_priority(cases)


def case_next_contact(case: CollectionCase, *, now: datetime) -> datetime:
    """When the debtor may next be called, in their local time."""
    return conduct.next_allowed_contact(
        now=now, time_zone=case.time_zone, connected_calls_today=connected_calls_on_local_day(case, now)
    )


def _ratio(part: int | Decimal, whole: int | Decimal) -> Decimal:
    if not whole:
        return Decimal("0.0000")
    return (Decimal(part) / Decimal(whole)).quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class CollectionsKpis:
    month_start: date
    as_of: date
    cases_worked: int
    cases_cured: int
    cure_rate: Decimal
    roll_rates: dict[str, Decimal]  # "M1→M2": share of loans in M1 at the last month end now in M2 or worse
    promises_kept: int
    promises_broken: int
    promise_kept_rate: Decimal
    recoveries_count: int
    recoveries_amount: Decimal

    def as_dict(self) -> dict:
        return {
            "month_start": self.month_start.isoformat(),
            "as_of": self.as_of.isoformat(),
            "cases_worked": self.cases_worked,
            "cases_cured": self.cases_cured,
            "cure_rate": str(self.cure_rate),
            "roll_rates": {key: str(value) for key, value in self.roll_rates.items()},
            "promises_kept": self.promises_kept,
            "promises_broken": self.promises_broken,
            "promise_kept_rate": str(self.promise_kept_rate),
            "recoveries_count": self.recoveries_count,
            "recoveries_amount": str(self.recoveries_amount),
        }


def roll_rates(*, as_of: date) -> dict[str, Decimal]:
    """Month over month: of the loans in bucket B at the end of last month, the share in a worse bucket
    (or written off) at the end of `as_of`. A loan repaid or cured meanwhile did not roll.
    """
    last_month_end = as_of.replace(day=1) - timedelta(days=1)
    before = dpd_bucket_by_loan(as_of=last_month_end)
    population = {loan_id: before.get(loan_id, "M0") for loan_id in principal_outstanding_by_loan(as_of=last_month_end)}
    now_owing = principal_outstanding_by_loan(as_of=as_of)
    now_bucket = dpd_bucket_by_loan(as_of=as_of)
    written_off = set(
        Loan.objects.filter(pk__in=population, state=Loan.State.WRITTEN_OFF, closed_on__lte=as_of).values_list(
            "pk", flat=True
        )
    )
    counts = dict.fromkeys(BUCKETS[:-1], 0)
    rolled = dict.fromkeys(BUCKETS[:-1], 0)
    for loan_id, bucket in population.items():
        if bucket not in counts:
            continue
        counts[bucket] += 1
        worse = loan_id in now_owing and BUCKETS.index(now_bucket.get(loan_id, "M0")) > BUCKETS.index(bucket)
        if worse or loan_id in written_off:
            rolled[bucket] += 1
    return {f"{b}→{BUCKETS[i + 1]}": _ratio(rolled[b], counts[b]) for i, b in enumerate(BUCKETS[:-1])}


def collections_kpis(*, as_of: date) -> CollectionsKpis:
    """The month to date of `as_of` (a closed business date).

    - Cure rate: cases resolved (cured) in the month ÷ cases worked in it
      (active at the start of the month or opened during it).
    - Roll rates: see `roll_rates`.
    - Promise-kept rate: promises kept ÷ promises settled (kept or broken) in the month.
    - Recoveries: count and amount posted on written-off loans in the month.
    """
    start = as_of.replace(day=1)
    worked = CollectionCase.objects.filter(opened_on__lte=as_of).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gte=start)
    )
    cured = worked.filter(state=CollectionCase.State.RESOLVED, closed_on__range=(start, as_of)).count()
    worked_count = worked.count()
    settled = PromiseToPay.objects.filter(settled_on__range=(start, as_of))
    kept = settled.filter(state=PromiseToPay.State.KEPT).count()
    broken = settled.filter(state=PromiseToPay.State.BROKEN).count()
    recoveries = Recovery.objects.filter(business_date__range=(start, as_of))
    amount = recoveries.aggregate(total=Sum("amount"))["total"] or ZERO
    return CollectionsKpis(
        month_start=start,
        as_of=as_of,
        cases_worked=worked_count,
        cases_cured=cured,
        cure_rate=_ratio(cured, worked_count),
        roll_rates=roll_rates(as_of=as_of),
        promises_kept=kept,
        promises_broken=broken,
        promise_kept_rate=_ratio(kept, kept + broken),
        recoveries_count=recoveries.count(),
        recoveries_amount=round_fen(amount),
    )


def _percent(rate: Decimal) -> str:
    return f"{rate * 100:.2f} %"


def collections_report_section(as_of: date) -> tuple[dict, str]:
    """The `collections` section of `manage.py portfolio_report`."""
    kpis = collections_kpis(as_of=as_of)
    lines = [
        f"Collections, {kpis.month_start} to {kpis.as_of}",
        f"cure rate:          {_percent(kpis.cure_rate)} ({kpis.cases_cured} of {kpis.cases_worked} cases)",
        f"promise-kept rate:  {_percent(kpis.promise_kept_rate)} "
        f"({kpis.promises_kept} kept, {kpis.promises_broken} broken)",
        f"recoveries:         {kpis.recoveries_amount:,} ({kpis.recoveries_count})",
        "roll rates (last month end → now, to a worse bucket or written off):",
        *(f"  {key}: {_percent(rate)}" for key, rate in kpis.roll_rates.items()),
    ]
    return kpis.as_dict(), "\n".join(lines)
