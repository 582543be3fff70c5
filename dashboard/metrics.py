"""Portfolio metrics as pure functions (no ORM): ratios, bucket distribution, roll-rate matrix, vintage curves.

Selectors fetch the rows; these functions turn them into figures, so the math is tested without a database.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from core.money import ZERO

RATE_QUANTUM = Decimal("0.0001")
# Where a loan open at the start of a roll-rate period ended up, besides a bucket.
REPAID = "repaid"
WRITTEN_OFF = "written_off"


def ratio(part: Decimal | int, whole: Decimal | int) -> Decimal:
    """part ÷ whole, half up to 4 places; zero when there is no whole."""
    if not whole:
        return Decimal("0.0000")
    return (Decimal(part) / Decimal(whole)).quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)


def month_start(day: date) -> date:
    return day.replace(day=1)


def months_back(last: date, count: int) -> list[date]:
    """The first days of the `count` months ending with `last`'s month, oldest first."""
    months = [month_start(last)]
    while len(months) < count:
        previous = months[-1]
        before = date(previous.year - 1, 12, 1) if previous.month == 1 else previous.replace(month=previous.month - 1)
        months.append(before)
    return months[::-1]


def months_between(start: date, end: date) -> int:
    """Whole calendar months from `start`'s month to `end`'s month (months on book)."""
    return (end.year - start.year) * 12 + end.month - start.month


@dataclass(frozen=True)
class BucketRow:
    bucket: str
    loans: int
    outstanding: Decimal
    share: Decimal


def bucket_distribution(
    principal: Mapping[int, Decimal], bucket_of: Mapping[int, str], buckets: list[str]
) -> list[BucketRow]:
    """Loans owing principal by bucket (a loan with no bucket is in the first), with each bucket's share."""
    counts = dict.fromkeys(buckets, 0)
    sums = dict.fromkeys(buckets, ZERO)
    for loan_id, amount in principal.items():
        bucket = bucket_of.get(loan_id, buckets[0])
        counts[bucket] += 1
        sums[bucket] += amount
    total = sum(sums.values(), ZERO)
    return [BucketRow(b, counts[b], sums[b], ratio(sums[b], total)) for b in buckets]


def share_in(rows: Iterable[BucketRow], buckets: Iterable[str]) -> Decimal:
    """Share of outstanding principal in `buckets` (e.g. 30+ DPD rate)."""
    rows = list(rows)
    wanted = set(buckets)
    total = sum((r.outstanding for r in rows), ZERO)
    return ratio(sum((r.outstanding for r in rows if r.bucket in wanted), ZERO), total)


def roll_rate_matrix(
    before: Mapping[int, str], after: Mapping[int, str], buckets: list[str]
) -> dict[str, dict[str, int]]:
    """Loans by bucket at the period start (rows) × where they are at its end (columns: buckets, repaid,
    written off). A loan in `before` missing from `after` left the book repaid."""
    columns = [*buckets, REPAID, WRITTEN_OFF]
    matrix = {row: dict.fromkeys(columns, 0) for row in buckets}
    for loan_id, start in before.items():
        matrix[start][after.get(loan_id, REPAID)] += 1
    return matrix


def roll_rate_shares(matrix: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, Decimal]]:
    """Each row of a roll-rate matrix as shares of the row's loans."""
    return {row: {col: ratio(n, sum(counts.values())) for col, n in counts.items()} for row, counts in matrix.items()}


@dataclass(frozen=True)
class Vintage:
    cohort: date  # first day of the origination month
    loans: int
    amount: Decimal
    curve: list[Decimal]  # cumulative share of originated principal that reached 30+ DPD, by months on book 0, 1, …


def vintage_curves(
    cohorts: Iterable[tuple[date, int, Decimal]],
    first_delinquent: Iterable[tuple[date, date, Decimal]],
    as_of: date,
) -> list[Vintage]:
    """Cumulative 30+ DPD by months on book per origination month, weighted by originated principal.

    `cohorts`: (origination month, loans, principal originated). `first_delinquent`: one row per loan that
    reached 30+ DPD by `as_of`: (disbursed on, first 30+ date, principal). A cohort's curve runs from months
    on book 0 to the months elapsed by `as_of`.
    """
    bad: dict[date, dict[int, Decimal]] = {}
    for disbursed_on, first_on, principal in first_delinquent:
        by_mob = bad.setdefault(month_start(disbursed_on), {})
        mob = months_between(disbursed_on, first_on)
        by_mob[mob] = by_mob.get(mob, ZERO) + principal
    vintages = []
    for cohort, loans, amount in sorted(cohorts):
        cumulative, curve = ZERO, []
        for mob in range(months_between(cohort, as_of) + 1):
            cumulative += bad.get(cohort, {}).get(mob, ZERO)
            curve.append(ratio(cumulative, amount))
        vintages.append(Vintage(cohort, loans, amount, curve))
    return vintages
