"""The dashboard's tables and charts from a Portfolio: one place decides what each chart and CSV shows."""

from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from dashboard import charts, metrics
from dashboard.selectors import Portfolio, Table
from lending.delinquency import BUCKETS


def percent(value) -> str:
    return f"{value * 100:.2f} %"


def portfolio_tables(portfolio: Portfolio, *, bucket_link) -> dict[str, Table]:
    """Every table on the page by key (the CSV name); `bucket_link(bucket)` is the loan list filtered to it."""
    s = portfolio.summary
    summary = Table("summary", _("Portfolio summary"), [_("Measure"), _("Value")])
    summary.rows = [
        [_("Outstanding principal"), s["outstanding"]],
        [_("Loans owing principal"), s["open_loans"]],
        [_("Loans disbursed this month"), s["originated_loans"]],
        [_("Amount disbursed this month"), s["originated_amount"]],
        [_("Approval rate this month"), s["approval_rate"]],
        [_("30+ DPD rate"), s["dpd30_rate"]],
        [_("90+ DPD rate"), s["dpd90_rate"]],
        [_("NPL ratio"), s["npl_ratio"]],
    ]
    buckets = Table("buckets", _("Bucket distribution"), [_("Bucket"), _("Loans"), _("Outstanding"), _("Share")])
    buckets.rows = [[b.bucket, b.loans, b.outstanding, b.share] for b in portfolio.buckets]
    buckets.links = [bucket_link(b.bucket) for b in portfolio.buckets]
    longest = max((len(v.curve) for v in portfolio.vintages), default=0)
    vintages = Table(
        "vintages",
        _("Vintage curves: cumulative 30+ DPD by months on book"),
        [_("Origination month"), _("Loans"), _("Amount"), *(_("MOB %(n)s") % {"n": n} for n in range(longest))],
    )
    vintages.rows = [
        [v.cohort.strftime("%Y-%m"), v.loans, v.amount, *v.curve, *[""] * (longest - len(v.curve))]
        for v in portfolio.vintages
    ]
    labels = {metrics.REPAID: _("Repaid"), metrics.WRITTEN_OFF: _("Written off")}
    columns = [*BUCKETS, metrics.REPAID, metrics.WRITTEN_OFF]
    shares = metrics.roll_rate_shares(portfolio.roll_matrix)
    rolls = Table(
        "roll_rates",
        _("Roll rates: last month end (rows) to the date (columns)"),
        [_("From"), _("Loans"), *(labels.get(c, c) for c in columns)],
    )
    matrix = portfolio.roll_matrix
    rolls.rows = [[row, sum(matrix[row].values()), *(shares[row][c] for c in columns)] for row in BUCKETS]
    return {
        t.key: t
        for t in [
            summary, buckets, portfolio.originations, vintages, rolls, portfolio.insurers, portfolio.models,
            portfolio.drift,
        ]
    }  # fmt: skip


def portfolio_charts(portfolio: Portfolio, tables: dict[str, Table]) -> dict[str, str]:
    """An SVG chart per table that has one (marked safe: every label in it is escaped)."""
    money = "{:,.0f}".format
    o = tables["originations"].rows
    r = tables["roll_rates"]
    svg = {
        "buckets": charts.bar_chart(
            [(row[0], row[2], link) for row, link in zip(tables["buckets"].rows, tables["buckets"].links, strict=True)],
            label=_("Outstanding principal by bucket"),
            fmt=money,
        ),
        "originations": charts.bar_chart(
            [(row[0][2:], row[2], None) for row in o], label=_("Amount disbursed by month"), fmt=money
        ),
        "approval": charts.line_chart(
            [row[0][2:] for row in o], [(_("Approval rate"), [row[5] for row in o])], label=_("Approval rate"),
            fmt=percent,
        ),
        "vintages": charts.line_chart(
            [str(n) for n in range(len(tables["vintages"].columns) - 3)],
            [(v.cohort.strftime("%Y-%m"), v.curve) for v in portfolio.vintages],
            label=_("Cumulative 30+ DPD by months on book"),
            fmt=percent,
        ),
        "roll_rates": charts.heat_map(
            BUCKETS, [str(c) for c in r.columns[2:]], [row[2:] for row in r.rows], label=_("Roll rates"),
            fmt=lambda v: f"{v * 100:.0f}%",
        ),
        "insurers": charts.bar_chart(
            [(row[0], row[4], None) for row in tables["insurers"].rows], label=_("Net loss by insurer"), fmt=money
        ),
        "drift": charts.line_chart(
            [row[0][2:] for row in tables["drift"].rows],
            [(_("PSI"), [row[2] for row in tables["drift"].rows])],
            label=_("Score drift (PSI)"),
            fmt="{:.2f}".format,
        ),
    }  # fmt: skip
    return {key: mark_safe(value) for key, value in svg.items()}  # noqa: S308 - built from escaped parts
