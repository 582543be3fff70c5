"""All-in APR: the IRR solver against independent references, and the schedule-level APR."""

from datetime import date
from decimal import Decimal, localcontext

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.money import MoneyTypeError
from lending.apr import AprResult, apr_for_schedule, apr_from_cash_flows
from lending.schedules import RepaymentMethod, schedule_for_new_loan

D = Decimal


def brute_force_irr(received: Decimal, payments: list[Decimal]) -> Decimal:
    """Plain bisection at 60 digits: slow, obviously right, shares no code with the solver."""
    with localcontext(prec=60):
        low, high = D(0), sum(payments) / received
        for _ in range(200):
            middle = (low + high) / 2
            present_value = sum(p / (1 + middle) ** k for k, p in enumerate(payments, start=1))
            if present_value > received:
                low = middle
            else:
                high = middle
        return +middle


def discounted(payments: list[Decimal], rate: Decimal) -> Decimal:
    return sum(p / (1 + rate) ** k for k, p in enumerate(payments, start=1))


def quote(method: RepaymentMethod, **overrides) -> list:
    loan = {
        "principal": D("10000"),
        "daily_rate": D("0.0004"),
        "method": method,
        "start_date": date(2026, 1, 15),
        "term_months": 12,
    }
    return schedule_for_new_loan(**{**loan, **overrides})


def test_worked_example_apr_is_about_fourteen_and_a_half_percent():
    """10,000 at 0.0004/day, 12 equal installments of 900.41 (last 900.42).

    The monthly IRR is 1.2116 %, so the nominal APR is 14.54 % (the 0.04 %/day
    looks like 14.6 % simple, but principal is repaid along the way) and the
    compounded effective rate is 15.55 %.
    """
    result = apr_for_schedule(principal=D("10000"), lines=quote(RepaymentMethod.EQUAL_INSTALLMENT))
    assert result == AprResult(
        periodic_rate=D("0.01211611"),
        nominal_annual_rate=D("0.14539327"),
        effective_annual_rate=D("0.15548426"),
        periods_per_year=12,
    )


SCHEDULES = {
    "equal installments": {"method": RepaymentMethod.EQUAL_INSTALLMENT},
    "equal principal with premium": {
        "method": RepaymentMethod.EQUAL_PRINCIPAL,
        "monthly_fee_rate": D("0.0025"),
    },
    "interest-first, 6 months": {"method": RepaymentMethod.INTEREST_FIRST, "term_months": 6},
    "large, dear, 36 months": {
        "method": RepaymentMethod.EQUAL_INSTALLMENT,
        "principal": D("200000"),
        "daily_rate": D("0.0006"),
        "term_months": 36,
        "monthly_fee_rate": D("0.003"),
    },
    "small, cheap, 3 months": {
        "method": RepaymentMethod.EQUAL_PRINCIPAL,
        "principal": D("500"),
        "daily_rate": D("0.0002"),
        "term_months": 3,
    },
}


@pytest.mark.parametrize("overrides", SCHEDULES.values(), ids=SCHEDULES.keys())
def test_periodic_rate_matches_a_brute_force_bisection(overrides):
    lines = quote(**overrides)
    principal = overrides.get("principal", D("10000"))
    result = apr_for_schedule(principal=principal, lines=lines)
    reference = brute_force_irr(principal, [line.total for line in lines])
    assert abs(result.periodic_rate - reference) <= D("0.000000005")


@pytest.mark.parametrize("overrides", SCHEDULES.values(), ids=SCHEDULES.keys())
def test_periodic_rate_matches_numpy_financial_irr(overrides):
    lines = quote(**overrides)
    principal = overrides.get("principal", D("10000"))
    result = apr_for_schedule(principal=principal, lines=lines)
    reference = npf.irr([-float(principal), *(float(line.total) for line in lines)])
    assert abs(float(result.periodic_rate) - reference) <= 1e-8


def test_upfront_fee_reduces_what_is_received_and_raises_the_apr():
    lines = quote(RepaymentMethod.EQUAL_INSTALLMENT)
    without_fee = apr_for_schedule(principal=D("10000"), lines=lines)
    with_fee = apr_for_schedule(principal=D("10000"), lines=lines, upfront_fee=D("100"))
    assert with_fee.nominal_annual_rate > without_fee.nominal_annual_rate
    reference = brute_force_irr(D("9900"), [line.total for line in lines])
    assert abs(with_fee.periodic_rate - reference) <= D("0.000000005")


def test_premium_counts_in_the_all_in_apr():
    bare = apr_for_schedule(principal=D("10000"), lines=quote(RepaymentMethod.EQUAL_INSTALLMENT))
    insured = apr_for_schedule(
        principal=D("10000"),
        lines=quote(RepaymentMethod.EQUAL_INSTALLMENT, monthly_fee_rate=D("0.0025")),
    )
    assert insured.nominal_annual_rate > bare.nominal_annual_rate


def test_an_interest_free_loan_has_a_zero_apr():
    lines = quote(RepaymentMethod.EQUAL_INSTALLMENT, daily_rate=D("0"))
    result = apr_for_schedule(principal=D("10000"), lines=lines)
    assert (result.periodic_rate, result.nominal_annual_rate, result.effective_annual_rate) == (0, 0, 0)


def test_nominal_rate_scales_and_effective_rate_compounds_the_periodic_rate():
    """Borrow 1,000, repay 1,100 after one quarter: 10 % a quarter, 40 % nominal, 46.41 % effective."""
    result = apr_from_cash_flows(flows=[D("1000"), D("1100")], periods_per_year=4)
    assert result == AprResult(
        periodic_rate=D("0.10000000"),
        nominal_annual_rate=D("0.40000000"),
        effective_annual_rate=D("0.46410000"),
        periods_per_year=4,
    )


def test_a_huge_far_balloon_still_converges():
    """1 now, 2^120 after 120 periods: exactly 100 % a period, beyond Newton's quick reach."""
    result = apr_from_cash_flows(flows=[D(1), *[D(0)] * 119, D(2) ** 120])
    assert result.periodic_rate == D("1.00000000")
    assert result.nominal_annual_rate == D("12.00000000")
    # 2^12 − 1; compounding twelve periods magnifies the 1e-12 solver tolerance 24,576-fold.
    assert abs(result.effective_annual_rate - D("4095")) <= D("0.0000001")


def test_paying_back_less_than_was_received_is_refused():
    with pytest.raises(ValueError, match="below the amount received"):
        apr_from_cash_flows(flows=[D("1000"), D("500"), D("499.99")])


def test_a_float_flow_raises_money_type_error():
    with pytest.raises(MoneyTypeError):
        apr_from_cash_flows(flows=[D("1000"), 1100.0])


def test_a_float_principal_raises_money_type_error():
    with pytest.raises(MoneyTypeError):
        apr_for_schedule(principal=10000.0, lines=quote(RepaymentMethod.EQUAL_INSTALLMENT))


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"flows": [D("1000")]}, "flows"),
        ({"flows": [D("0"), D("100")]}, r"flows\[0\]"),
        ({"flows": [D("1000"), D("1200"), D("-1")]}, "flows"),
        ({"flows": [D("1000"), D("1100")], "periods_per_year": 0}, "periods_per_year"),
    ],
)
def test_invalid_cash_flows_are_refused_naming_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        apr_from_cash_flows(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"upfront_fee": D("-1")}, "upfront_fee"),
        ({"upfront_fee": D("10000")}, "upfront_fee"),
        ({"lines": []}, "lines"),
    ],
)
def test_invalid_schedule_apr_input_is_refused_naming_the_argument(kwargs, argument):
    arguments = {"principal": D("10000"), "lines": quote(RepaymentMethod.EQUAL_INSTALLMENT), **kwargs}
    with pytest.raises(ValueError, match=argument):
        apr_for_schedule(**arguments)


@st.composite
def product_quotes(draw):
    """Quotes inside the product's ranges: 500–200,000, 0–0.06 %/day, up to 12 months."""
    method = draw(st.sampled_from(RepaymentMethod))
    principal = D(draw(st.integers(min_value=500, max_value=200_000)))
    lines = schedule_for_new_loan(
        principal=principal,
        daily_rate=D(draw(st.integers(min_value=0, max_value=600))).scaleb(-6),
        method=method,
        start_date=draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))),
        term_months=draw(st.integers(min_value=1, max_value=12)),
        monthly_fee_rate=D(draw(st.integers(min_value=0, max_value=50))).scaleb(-4),
    )
    upfront_fee = D(draw(st.integers(min_value=0, max_value=int(principal) // 20)))
    return principal, lines, upfront_fee


@settings(derandomize=True, max_examples=200)
@given(case=product_quotes())
def test_apr_is_never_negative_and_discounts_the_payments_back_to_the_amount_received(case):
    principal, lines, upfront_fee = case
    result = apr_for_schedule(principal=principal, lines=lines, upfront_fee=upfront_fee)
    assert result.periodic_rate >= 0
    assert result.nominal_annual_rate >= 0
    received = principal - upfront_fee
    assert abs(discounted([line.total for line in lines], result.periodic_rate) - received) <= D("0.01")
