"""Reads of the loan book shared by commands, the API and the admin: portfolio figures as of a business date."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F, Sum, Window
from django.db.models.functions import Round, RowNumber

from core.fields import MoneyField
from core.money import ZERO, round_fen
from ledger.chart import PRINCIPAL_RECEIVABLE
from ledger.models import JournalLine
from lending.delinquency import BUCKETS
from lending.models import LoanBucketChange

RATE_QUANTUM = Decimal("0.0001")
# "N+ DPD" means more than N days past due: 30+ is M2 (31–60) and above, 90+ is M4 (91–120) and above.
DPD30_BUCKETS = frozenset(BUCKETS[BUCKETS.index("M2") :])
DPD90_BUCKETS = frozenset(BUCKETS[BUCKETS.index("M4") :])


def _ratio(part: Decimal, whole: Decimal) -> Decimal:
    if not whole:
        return Decimal("0.0000")
    return (part / whole).quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class BucketFigures:
    bucket: str
    loans: int
    outstanding: Decimal
    share: Decimal  # of the book's outstanding principal, 4 places


@dataclass(frozen=True)
class PortfolioFigures:
    as_of: date
    open_loans: int
    outstanding: Decimal
    buckets: tuple[BucketFigures, ...]  # M0…M7, every bucket present
    dpd30_rate: Decimal
    dpd90_rate: Decimal
    npl_ratio: Decimal

    def as_dict(self) -> dict:
        """Plain JSON-ready values: money and rates as strings (no float rounding), the date in ISO form."""
        return {
            "as_of": self.as_of.isoformat(),
            "open_loans": self.open_loans,
            "outstanding": str(self.outstanding),
            "buckets": [
                {"bucket": b.bucket, "loans": b.loans, "outstanding": str(b.outstanding), "share": str(b.share)}
                for b in self.buckets
            ],
            "dpd30_rate": str(self.dpd30_rate),
            "dpd90_rate": str(self.dpd90_rate),
            "npl_ratio": str(self.npl_ratio),
        }


def principal_outstanding_by_loan(*, as_of: date) -> dict[int, Decimal]:
    """Principal receivable (net debit) per loan from the ledger lines of entries dated on or before `as_of`.

    Read from the ledger rather than Loan.principal_outstanding (a cache of
    today's balance) so that a past date is exact. Only loans owing principal.
    """
    # Rounded in the database: SQLite sums decimals as floats, and a repaid
    # loan must net to exactly zero to drop out.
    balance = Round(Sum("debit") - Sum("credit"), 2, output_field=MoneyField())
    rows = (
        JournalLine.objects.filter(
            account__code=PRINCIPAL_RECEIVABLE, loan_id__isnull=False, entry__business_date__lte=as_of
        )
        .values("loan_id")
        .annotate(balance=balance)
        .filter(balance__gt=0)
        .order_by()
        .values_list("loan_id", "balance")
    )
    return {loan_id: round_fen(amount) for loan_id, amount in rows}


def dpd_bucket_by_loan(*, as_of: date) -> dict[int, str]:
    """Each loan's DPD bucket at the end of `as_of`: the target of its latest bucket change by then.

    Loans with no change by then are M0 and left out. The ranking (latest
    business date, then latest row) runs in the database; the filter on the
    rank wraps it in a subquery, so filtering on to_bucket must stay in Python
    (in SQL it would rank only the changes into a delinquent bucket).
    """
    latest = Window(RowNumber(), partition_by=[F("loan_id")], order_by=[F("business_date").desc(), F("id").desc()])
    rows = (
        LoanBucketChange.objects.filter(business_date__lte=as_of)
        .annotate(rank=latest)
        .filter(rank=1)
        .values_list("loan_id", "to_bucket")
    )
    return {loan_id: bucket for loan_id, bucket in rows if bucket != "M0"}


def portfolio_figures(*, as_of: date) -> PortfolioFigures:
    """The book at the end of business date `as_of`, after its close; exact for past dates too.

    - Open loans and outstanding: loans whose principal receivable (ledger
      lines of entries dated ≤ `as_of`, debits − credits) is positive, and
      the sum of it. Paid-off, written-off and not-yet-disbursed loans owe no
      principal and drop out.
    - Bucket: the `to_bucket` of the loan's latest LoanBucketChange dated
      ≤ `as_of` (the close records one whenever a bucket moves), M0 when
      there is none. Count, outstanding and share of the book per bucket M0–M7.
    - 30+ DPD rate: outstanding in M2 and above (more than 30 days past due)
      ÷ total outstanding. 90+ DPD rate: the same for M4 and above.
    - NPL ratio: 90+ DPD per DOMAIN.md, so equal to the 90+ DPD rate. It is
      read from buckets, so a product whose `npl_dpd` is not 90 is not
      reflected here (Loan.is_npl follows the product; it has no history).
    - Rates and shares are Decimals rounded half up to 4 places; all zero for
      an empty book. Money is rounded to the fen.

    Two aggregate queries (principal per loan, latest bucket per loan),
    combined in dicts.
    """
    principal = principal_outstanding_by_loan(as_of=as_of)
    bucket_of = dpd_bucket_by_loan(as_of=as_of)
    counts = dict.fromkeys(BUCKETS, 0)
    sums = dict.fromkeys(BUCKETS, ZERO)
    for loan_id, amount in principal.items():
        bucket = bucket_of.get(loan_id, "M0")
        counts[bucket] += 1
        sums[bucket] += amount
    total = sum(sums.values(), ZERO)
    return PortfolioFigures(
        as_of=as_of,
        open_loans=len(principal),
        outstanding=total,
        buckets=tuple(
            BucketFigures(bucket=b, loans=counts[b], outstanding=sums[b], share=_ratio(sums[b], total)) for b in BUCKETS
        ),
        dpd30_rate=_ratio(sum((sums[b] for b in DPD30_BUCKETS), ZERO), total),
        dpd90_rate=_ratio(sum((sums[b] for b in DPD90_BUCKETS), ZERO), total),
        npl_ratio=_ratio(sum((sums[b] for b in DPD90_BUCKETS), ZERO), total),
    )


# Apps above lending add sections to `portfolio_report` without lending importing them:
# each section is `section(as_of) -> (json_dict, text)`, registered from the app's ready().
ReportSection = Callable[[date], tuple[dict, str]]
_report_sections: dict[str, ReportSection] = {}


def portfolio_report_section_register(name: str, section: ReportSection) -> None:
    _report_sections[name] = section


def portfolio_report_sections() -> dict[str, ReportSection]:
    return dict(_report_sections)
