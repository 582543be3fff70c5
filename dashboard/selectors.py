"""Portfolio dashboard reads: aggregate queries over the book as of a business date, shaped into tables.

Each table is plain rows (money and rates as Decimal) so the page, its charts and its CSV
downloads all show the same numbers. The heavy parts reuse lending.selectors' per-loan
ledger balances and bucket history, so past dates are exact.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import zip_longest

from django.db.models import Count, F, Min, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy as _

from core.money import ZERO, round_fen
from dashboard import metrics
from insurance.models import CoverageMovement, InsuranceClaim
from lending.delinquency import BUCKETS
from lending.models import Loan, LoanBucketChange
from lending.selectors import DPD30_BUCKETS, DPD90_BUCKETS, dpd_bucket_by_loan, principal_outstanding_by_loan
from underwriting.models import Application, ModelVersion
from underwriting.monitoring import score_drift

TREND_MONTHS = 12


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    links: list[str | None] = field(default_factory=list)  # per row, a link for its first cell

    def linked_rows(self) -> list[tuple[list, str | None]]:
        return list(zip_longest(self.rows, self.links[: len(self.rows)]))


@dataclass
class Portfolio:
    as_of: date
    summary: dict
    buckets: list[metrics.BucketRow]
    originations: Table
    vintages: list[metrics.Vintage]
    roll_matrix: dict[str, dict[str, int]]
    insurers: Table
    models: Table
    drift: Table


def _money(value) -> object:
    return round_fen(value or ZERO)


def originations_by_month(*, months: list[date], as_of: date) -> Table:
    """Loans disbursed and applications decided per month, with the approval rate (approved ÷ decided)."""
    first = months[0]
    loans = {
        row["month"]: row
        for row in Loan.objects.filter(disbursed_on__range=(first, as_of))
        .annotate(month=TruncMonth("disbursed_on"))
        .values("month")
        .annotate(loans=Count("id"), amount=Sum("principal"))
        .order_by()
    }
    decided = {
        row["month"]: row
        for row in Application.objects.filter(decided_on__range=(first, as_of))
        .annotate(month=TruncMonth("decided_on"))
        .values("month")
        .annotate(
            approved=Count("id", filter=Q(state=Application.State.APPROVED)),
            declined=Count("id", filter=Q(state=Application.State.DECLINED)),
        )
        .order_by()
    }
    table = Table(
        "originations",
        _("Originations and approvals by month"),
        [_("Month"), _("Loans disbursed"), _("Amount disbursed"), _("Approved"), _("Declined"), _("Approval rate")],
    )
    for month in months:
        made, dec = loans.get(month, {}), decided.get(month, {})
        approved, declined = dec.get("approved", 0), dec.get("declined", 0)
        table.rows.append(
            [
                month.strftime("%Y-%m"),
                made.get("loans", 0),
                _money(made.get("amount")),
                approved,
                declined,
                metrics.ratio(approved, approved + declined),
            ]
        )
    return table


def vintages(*, as_of: date, months: list[date]) -> list[metrics.Vintage]:
    """Cumulative 30+ DPD by months on book for the loans originated in each of `months`."""
    cohorts = (
        Loan.objects.filter(disbursed_on__range=(months[0], as_of))
        .annotate(month=TruncMonth("disbursed_on"))
        .values_list("month")
        .annotate(loans=Count("id"), amount=Sum("principal"))
        .order_by()
    )
    first_bad = (
        LoanBucketChange.objects.filter(
            to_bucket__in=DPD30_BUCKETS, business_date__lte=as_of, loan__disbursed_on__range=(months[0], as_of)
        )
        .values_list("loan_id", "loan__disbursed_on", "loan__principal")
        .annotate(first=Min("business_date"))
        .order_by()
    )
    return metrics.vintage_curves(
        [(month, loans, _money(amount)) for month, loans, amount in cohorts],
        [(disbursed_on, first, principal) for _, disbursed_on, principal, first in first_bad],
        as_of,
    )


def roll_matrix(*, as_of: date, principal_now: dict, bucket_now: dict) -> dict[str, dict[str, int]]:
    """Loans owing principal at the end of last month by bucket, against where they are at `as_of`."""
    last_month_end = metrics.month_start(as_of) - timedelta(days=1)
    bucket_then = dpd_bucket_by_loan(as_of=last_month_end)
    owing_then = principal_outstanding_by_loan(as_of=last_month_end)
    before = {loan_id: bucket_then.get(loan_id, "M0") for loan_id in owing_then}
    written_off = set(
        Loan.objects.filter(pk__in=before, state=Loan.State.WRITTEN_OFF, closed_on__lte=as_of).values_list(
            "pk", flat=True
        )
    )
    after = {loan_id: bucket_now.get(loan_id, "M0") for loan_id in principal_now}
    after.update(dict.fromkeys(written_off, metrics.WRITTEN_OFF))
    return metrics.roll_rate_matrix(before, after, BUCKETS)


def insurer_losses(*, as_of: date) -> Table:
    """Per insurer, by `as_of`: claims paid (the insurer's loss) and recoveries routed back to it."""
    paid = {
        row["name"]: row
        for row in InsuranceClaim.objects.filter(state=InsuranceClaim.State.PAID, paid_on__lte=as_of)
        .values(name=F("coverage__policy__insurer__name"))
        .annotate(claims=Count("id"), amount=Sum("approved_amount"))
        .order_by()
    }
    recovered = dict(
        CoverageMovement.objects.filter(kind=CoverageMovement.Kind.RECOVERY, business_date__lte=as_of)
        .values_list("coverage__policy__insurer__name")
        .annotate(amount=Sum("amount"))
        .order_by()
    )
    table = Table(
        "insurers",
        _("Losses and recoveries by insurer"),
        [_("Insurer"), _("Claims paid"), _("Amount paid"), _("Recoveries"), _("Net loss")],
    )
    for name in sorted(set(paid) | set(recovered)):
        amount, recoveries = _money(paid.get(name, {}).get("amount")), _money(recovered.get(name))
        table.rows.append([name, paid.get(name, {}).get("claims", 0), amount, recoveries, amount - recoveries])
    return table


def model_tracking(*, as_of: date) -> tuple[Table, Table]:
    """Every scoring model version's validation metrics (all of them: versions are stamped with the wall clock,
    not the business date), and the live model's monthly PSI up to `as_of`."""
    versions = Table(
        "models",
        _("Model versions"),
        [_("Version"), _("Trained on"), _("AUC"), _("KS"), _("Gini"), _("Active")],
    )
    for version in ModelVersion.objects.order_by("version"):
        m = version.metrics
        versions.rows.append(
            [version.version, version.created_at.date().isoformat(), m.get("auc"), m.get("ks"), m.get("gini"),
             _("yes") if version.is_active else _("no")]
        )  # fmt: skip
    drift = Table("drift", _("Score drift (PSI) of the live model"), [_("Month"), _("Applications"), _("PSI")])
    for row in score_drift(months=TREND_MONTHS, today=as_of):
        drift.rows.append([row["month"], row["applications"], row["psi"]])
    return versions, drift


def portfolio_dashboard(*, as_of: date) -> Portfolio:
    """Everything the dashboard shows for the book at the end of `as_of`."""
    months = metrics.months_back(as_of, TREND_MONTHS)
    principal = principal_outstanding_by_loan(as_of=as_of)
    bucket_of = dpd_bucket_by_loan(as_of=as_of)
    buckets = metrics.bucket_distribution(principal, bucket_of, BUCKETS)
    originations = originations_by_month(months=months, as_of=as_of)
    this_month = originations.rows[-1]
    summary = {
        "outstanding": sum((b.outstanding for b in buckets), ZERO),
        "open_loans": len(principal),
        "originated_loans": this_month[1],
        "originated_amount": this_month[2],
        "approval_rate": this_month[5],
        "dpd30_rate": metrics.share_in(buckets, DPD30_BUCKETS),
        "dpd90_rate": metrics.share_in(buckets, DPD90_BUCKETS),
        # NPL is 90+ DPD (DOMAIN.md), read from the bucket history like the portfolio report.
        "npl_ratio": metrics.share_in(buckets, DPD90_BUCKETS),
    }
    models_table, drift = model_tracking(as_of=as_of)
    return Portfolio(
        as_of=as_of,
        summary=summary,
        buckets=buckets,
        originations=originations,
        vintages=vintages(as_of=as_of, months=months),
        roll_matrix=roll_matrix(as_of=as_of, principal_now=principal, bucket_now=bucket_of),
        insurers=insurer_losses(as_of=as_of),
        models=models_table,
        drift=drift,
    )
