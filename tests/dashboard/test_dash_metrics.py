"""The dashboard's pure metrics: ratios, buckets, roll rates and vintage curves, without a database."""

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from dashboard import metrics

BUCKETS = ["M0", "M1", "M2", "M3"]


def test_ratio_rounds_half_up_to_four_places_and_is_zero_without_a_whole():
    assert metrics.ratio(1, 3) == Decimal("0.3333")
    assert metrics.ratio(Decimal("0.00005"), 1) == Decimal("0.0001")
    assert metrics.ratio(5, 0) == Decimal("0.0000")


def test_months_back_crosses_the_year_end_oldest_first():
    assert metrics.months_back(date(2026, 2, 17), 3) == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]


def test_bucket_distribution_puts_loans_without_a_bucket_in_the_first_and_shares_sum_to_one():
    rows = metrics.bucket_distribution(
        {1: Decimal("100.00"), 2: Decimal("300.00"), 3: Decimal("600.00")}, {2: "M2", 3: "M3"}, BUCKETS
    )
    assert [(r.bucket, r.loans, r.outstanding, r.share) for r in rows] == [
        ("M0", 1, Decimal("100.00"), Decimal("0.1000")),
        ("M1", 0, Decimal("0.00"), Decimal("0.0000")),
        ("M2", 1, Decimal("300.00"), Decimal("0.3000")),
        ("M3", 1, Decimal("600.00"), Decimal("0.6000")),
    ]
    assert metrics.share_in(rows, {"M2", "M3"}) == Decimal("0.9000")


def test_roll_rate_matrix_counts_repaid_loans_and_write_offs():
    before = {1: "M0", 2: "M1", 3: "M1", 4: "M2"}
    after = {1: "M0", 2: "M2", 4: metrics.WRITTEN_OFF}
    matrix = metrics.roll_rate_matrix(before, after, BUCKETS)
    assert matrix["M0"]["M0"] == 1
    assert matrix["M1"]["M2"] == 1 and matrix["M1"][metrics.REPAID] == 1
    assert matrix["M2"][metrics.WRITTEN_OFF] == 1
    shares = metrics.roll_rate_shares(matrix)
    assert shares["M1"]["M2"] == Decimal("0.5000")
    assert all(v == 0 for v in shares["M3"].values())


@given(st.dictionaries(st.integers(0, 50), st.sampled_from(BUCKETS)), st.data())
def test_every_loan_lands_in_exactly_one_cell_of_its_starting_row(before, data):
    after = {k: data.draw(st.sampled_from([*BUCKETS, metrics.WRITTEN_OFF])) for k in before if data.draw(st.booleans())}
    matrix = metrics.roll_rate_matrix(before, after, BUCKETS)
    for bucket in BUCKETS:
        assert sum(matrix[bucket].values()) == sum(1 for b in before.values() if b == bucket)


def test_vintage_curve_is_cumulative_by_months_on_book_weighted_by_principal():
    cohorts = [(date(2026, 1, 1), 3, Decimal("1000.00")), (date(2026, 3, 1), 1, Decimal("500.00"))]
    first_bad = [
        (date(2026, 1, 20), date(2026, 3, 5), Decimal("100.00")),  # month on book 2
        (date(2026, 1, 5), date(2026, 4, 1), Decimal("250.00")),  # month on book 3
    ]
    jan, mar = metrics.vintage_curves(cohorts, first_bad, date(2026, 4, 10))
    assert jan.curve == [Decimal("0"), Decimal("0"), Decimal("0.1000"), Decimal("0.3500")]
    assert mar.curve == [Decimal("0"), Decimal("0")]


@given(st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11), st.decimals("0.01", "10000", places=2)), max_size=30))
def test_vintage_curves_never_fall_and_never_pass_one(events):
    as_of = date(2026, 12, 31)
    first_bad = [
        (date(2026, 1 + start, 15), date(2026, min(12, 1 + start + lag), 20), amount) for start, lag, amount in events
    ]
    originated: dict[date, Decimal] = {}
    for disbursed_on, _, amount in first_bad:
        key = disbursed_on.replace(day=1)
        originated[key] = originated.get(key, Decimal(0)) + amount
    cohorts = [(month, 1, amount) for month, amount in originated.items()]
    for vintage in metrics.vintage_curves(cohorts, first_bad, as_of):
        assert vintage.curve == sorted(vintage.curve)
        assert vintage.curve[-1] <= 1
