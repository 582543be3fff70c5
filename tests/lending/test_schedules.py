"""Repayment schedules: due dates, the three methods, rounding, validation, re-amortisation."""

from datetime import date, timedelta
from decimal import Decimal

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.money import MoneyTypeError
from lending.schedules import (
    RepaymentMethod,
    ScheduleLine,
    build_schedule,
    monthly_due_dates,
    reamortize_keep_installment,
    schedule_for_new_loan,
    schedule_totals,
)

D = Decimal
EI = RepaymentMethod.EQUAL_INSTALLMENT
EP = RepaymentMethod.EQUAL_PRINCIPAL
IF = RepaymentMethod.INTEREST_FIRST


def every_n_days(*, start: date, days: int, count: int) -> list[date]:
    return [start + timedelta(days=days * k) for k in range(1, count + 1)]


def level_installment(lines: list[ScheduleLine]) -> Decimal:
    return lines[0].principal + lines[0].interest


def amounts_of(line: ScheduleLine) -> list[Decimal]:
    return [line.opening_principal, line.principal, line.interest, line.fee, line.total]


# Strategies ---------------------------------------------------------------

fen_amounts = st.integers(min_value=1, max_value=20_000_000).map(lambda fen: D(fen).scaleb(-2))
daily_rates = st.integers(min_value=0, max_value=1_000).map(lambda n: D(n).scaleb(-6))
monthly_fee_rates = st.integers(min_value=0, max_value=100).map(lambda n: D(n).scaleb(-4))
start_dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def new_loans(draw, *, methods=tuple(RepaymentMethod), principals=fen_amounts, max_term=36):
    method = draw(st.sampled_from(methods))
    longest = min(max_term, 12) if method is IF else max_term
    return {
        "principal": draw(principals),
        "daily_rate": draw(daily_rates),
        "method": method,
        "start_date": draw(start_dates),
        "term_months": draw(st.integers(min_value=1, max_value=longest)),
        "monthly_fee_rate": draw(monthly_fee_rates),
    }


# Due dates ----------------------------------------------------------------


def test_due_dates_fall_on_the_start_day_of_each_following_month():
    assert monthly_due_dates(start_date=date(2026, 11, 15), term_months=3) == [
        date(2026, 12, 15),
        date(2027, 1, 15),
        date(2027, 2, 15),
    ]


def test_due_dates_of_a_loan_started_on_the_31st_stay_anchored_on_the_31st():
    assert monthly_due_dates(start_date=date(2026, 1, 31), term_months=6) == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
        date(2026, 6, 30),
        date(2026, 7, 31),
    ]


def test_due_date_in_a_leap_february_is_the_29th():
    assert monthly_due_dates(start_date=date(2028, 1, 30), term_months=2) == [
        date(2028, 2, 29),
        date(2028, 3, 30),
    ]


def test_a_term_of_zero_months_is_refused():
    with pytest.raises(ValueError, match="term_months"):
        monthly_due_dates(start_date=date(2026, 1, 15), term_months=0)


# Worked examples ----------------------------------------------------------


def test_equal_installment_worked_example_matches_the_hand_calculation():
    """10,000 CNY at 0.0004/day over 12 months from 2026-01-15.

    Period days (Feb 15 … Jan 15): 31 28 31 30 31 30 31 31 30 31 30 31 (365).
    Annuity factor Σ_k Π_{i≤k} 1/(1 + 0.0004·d_i) = 11.10604…, so the payment
    is 10000 / 11.10604… = 900.4110… → 900.41.
    Line 1: interest 10000 × 0.0004 × 31 = 124.00, principal 900.41 − 124.00 = 776.41.
    Line 2: opening 9223.59, interest 9223.59 × 0.0004 × 28 = 103.304… → 103.30,
            principal 797.11. Lines 3–11 go the same way on their own days.
    Line 12: the remaining 889.39 is all due, interest 889.39 × 0.0124 = 11.03,
             so the last installment is 900.42 — one fen of rounding residue.
    Interest over the loan: 804.93.
    """
    lines = schedule_for_new_loan(
        principal=D("10000"), daily_rate=D("0.0004"), method=EI, start_date=date(2026, 1, 15), term_months=12
    )
    expected = [
        # days, opening, principal, interest
        (31, "10000.00", "776.41", "124.00"),
        (28, "9223.59", "797.11", "103.30"),
        (31, "8426.48", "795.92", "104.49"),
        (30, "7630.56", "808.84", "91.57"),
        (31, "6821.72", "815.82", "84.59"),
        (30, "6005.90", "828.34", "72.07"),
        (31, "5177.56", "836.21", "64.20"),
        (31, "4341.35", "846.58", "53.83"),
        (30, "3494.77", "858.47", "41.94"),
        (31, "2636.30", "867.72", "32.69"),
        (30, "1768.58", "879.19", "21.22"),
        (31, "889.39", "889.39", "11.03"),
    ]
    assert [(line.days, line.opening_principal, line.principal, line.interest) for line in lines] == [
        (days, D(opening), D(principal), D(interest)) for days, opening, principal, interest in expected
    ]
    assert [line.total for line in lines] == [D("900.41")] * 11 + [D("900.42")]
    assert [line.number for line in lines] == list(range(1, 13))
    assert lines[0].start_date == date(2026, 1, 15)
    assert lines[0].due_date == date(2026, 2, 15)
    assert lines[1].start_date == date(2026, 2, 15)
    assert lines[-1].due_date == date(2027, 1, 15)
    assert schedule_totals(lines).interest == D("804.93")


def test_equal_principal_splits_evenly_and_puts_the_residue_on_the_last_line():
    """1,000.00 over 3 periods: 333.33 + 333.33 + 333.34."""
    lines = build_schedule(
        principal=D("1000.00"),
        daily_rate=D("0.0005"),
        method=EP,
        start_date=date(2026, 3, 1),
        due_dates=every_n_days(start=date(2026, 3, 1), days=30, count=3),
    )
    assert [line.principal for line in lines] == [D("333.33"), D("333.33"), D("333.34")]


def test_equal_principal_residue_can_make_the_last_line_a_fen_smaller():
    """200.00 / 3 = 66.666… rounds half up to 66.67, so the last line takes 66.66."""
    lines = build_schedule(
        principal=D("200.00"),
        daily_rate=D("0"),
        method=EP,
        start_date=date(2026, 3, 1),
        due_dates=every_n_days(start=date(2026, 3, 1), days=30, count=3),
    )
    assert [line.principal for line in lines] == [D("66.67"), D("66.67"), D("66.66")]


def test_equal_principal_interest_runs_on_the_declining_balance():
    """3,000 at 0.0005/day, 30-day periods: interest 45.00, 30.00, 15.00."""
    lines = build_schedule(
        principal=D("3000"),
        daily_rate=D("0.0005"),
        method=EP,
        start_date=date(2026, 3, 1),
        due_dates=every_n_days(start=date(2026, 3, 1), days=30, count=3),
    )
    assert [line.opening_principal for line in lines] == [D("3000.00"), D("2000.00"), D("1000.00")]
    assert [line.interest for line in lines] == [D("45.00"), D("30.00"), D("15.00")]


def test_interest_first_pays_interest_each_period_and_all_principal_at_the_end():
    """5,000 at 0.0004/day from 2026-01-31: days 28, 31, 30 → interest 56.00, 62.00, 60.00."""
    lines = schedule_for_new_loan(
        principal=D("5000"), daily_rate=D("0.0004"), method=IF, start_date=date(2026, 1, 31), term_months=3
    )
    assert [line.due_date for line in lines] == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]
    assert [line.interest for line in lines] == [D("56.00"), D("62.00"), D("60.00")]
    assert [line.principal for line in lines] == [D("0.00"), D("0.00"), D("5000.00")]


def test_a_loan_started_on_the_31st_accrues_interest_on_the_actual_days_of_each_month():
    lines = schedule_for_new_loan(
        principal=D("6000"), daily_rate=D("0.0004"), method=EP, start_date=date(2026, 1, 31), term_months=4
    )
    assert [line.days for line in lines] == [28, 31, 30, 31]
    assert lines[0].interest == D("67.20")  # 6000 × 0.0004 × 28
    assert lines[1].interest == D("55.80")  # 4500 × 0.0004 × 31


def test_premium_is_the_monthly_rate_on_the_opening_principal():
    """Premium 0.25 %/month on 3,000, 2,000, 1,000 → 7.50, 5.00, 2.50, whatever the days."""
    lines = build_schedule(
        principal=D("3000"),
        daily_rate=D("0.0004"),
        method=EP,
        start_date=date(2026, 1, 31),
        due_dates=monthly_due_dates(start_date=date(2026, 1, 31), term_months=3),
        monthly_fee_rate=D("0.0025"),
    )
    assert [line.fee for line in lines] == [D("7.50"), D("5.00"), D("2.50")]
    assert lines[0].total == lines[0].principal + lines[0].interest + D("7.50")


def test_zero_rate_equal_installments_split_the_principal_evenly():
    lines = schedule_for_new_loan(
        principal=D("1200"), daily_rate=D("0"), method=EI, start_date=date(2026, 1, 15), term_months=12
    )
    assert {line.total for line in lines} == {D("100.00")}


@pytest.mark.parametrize(
    ("principal", "daily_rate", "periods"),
    [
        ("10000", "0.0004", 12),
        ("500", "0.0002", 3),
        ("200000", "0.0006", 6),
        ("12345.67", "0.00035", 24),
        ("99999.99", "0.0001", 36),
    ],
)
def test_level_payment_matches_numpy_financial_pmt_when_periods_are_equal(principal, daily_rate, periods):
    start = date(2026, 1, 1)
    lines = build_schedule(
        principal=D(principal),
        daily_rate=D(daily_rate),
        method=EI,
        start_date=start,
        due_dates=every_n_days(start=start, days=30, count=periods),
    )
    textbook = -npf.pmt(float(daily_rate) * 30, periods, float(principal))
    assert abs(level_installment(lines) - D(str(float(textbook)))) <= D("0.005")


def test_equal_installments_amortise_to_zero_with_uneven_months():
    """With the actual-day factors the last line differs from the level payment by rounding only."""
    lines = schedule_for_new_loan(
        principal=D("200000"), daily_rate=D("0.0006"), method=EI, start_date=date(2026, 1, 31), term_months=36
    )
    assert abs(lines[-1].principal + lines[-1].interest - level_installment(lines)) <= D("0.50")


def test_schedule_totals_add_up_the_lines():
    lines = schedule_for_new_loan(
        principal=D("10000"),
        daily_rate=D("0.0004"),
        method=EI,
        start_date=date(2026, 1, 15),
        term_months=12,
        monthly_fee_rate=D("0.0025"),
    )
    totals = schedule_totals(lines)
    assert totals.principal == D("10000.00")
    assert totals.interest == D("804.93")
    assert totals.fee == sum(line.fee for line in lines)
    assert totals.total == totals.principal + totals.interest + totals.fee == sum(line.total for line in lines)


# Validation ---------------------------------------------------------------

VALID = {
    "principal": D("1000"),
    "daily_rate": D("0.0004"),
    "method": EI,
    "start_date": date(2026, 1, 15),
    "due_dates": [date(2026, 2, 15), date(2026, 3, 15)],
}


@pytest.mark.parametrize("argument", ["principal", "daily_rate", "monthly_fee_rate"])
def test_a_float_amount_or_rate_raises_money_type_error(argument):
    with pytest.raises(MoneyTypeError):
        build_schedule(**{**VALID, argument: 0.5})


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("principal", D("0")),
        ("principal", D("-100")),
        ("principal", D("100.001")),
        ("daily_rate", D("-0.0001")),
        ("monthly_fee_rate", D("-0.001")),
        ("due_dates", []),
        ("due_dates", [date(2026, 3, 15), date(2026, 2, 15)]),
        ("due_dates", [date(2026, 2, 15), date(2026, 2, 15)]),
        ("due_dates", [date(2026, 1, 15)]),
        ("method", "balloon"),
    ],
)
def test_invalid_input_is_refused_naming_the_argument(argument, value):
    with pytest.raises(ValueError, match=argument):
        build_schedule(**{**VALID, argument: value})


def test_interest_first_beyond_twelve_periods_is_refused():
    with pytest.raises(ValueError, match="due_dates: interest-first"):
        schedule_for_new_loan(
            principal=D("1000"),
            daily_rate=D("0.0004"),
            method=IF,
            start_date=date(2026, 1, 15),
            term_months=13,
        )


def test_method_may_be_given_as_its_stored_value():
    by_value = build_schedule(**{**VALID, "method": "equal_principal"})
    assert by_value == build_schedule(**{**VALID, "method": EP})


# Re-amortisation after a prepayment ---------------------------------------


def loan_after_three_installments(method: RepaymentMethod) -> tuple[list[ScheduleLine], list[date]]:
    lines = schedule_for_new_loan(
        principal=D("12000"),
        daily_rate=D("0.0004"),
        method=method,
        start_date=date(2026, 1, 15),
        term_months=12,
    )
    return lines, [line.due_date for line in lines[3:]]


def test_keeping_the_term_lowers_the_installment_over_the_same_dates():
    lines, remaining = loan_after_three_installments(EI)
    lower = build_schedule(
        principal=lines[3].opening_principal - D("5000"),
        daily_rate=D("0.0004"),
        method=EI,
        start_date=date(2026, 4, 20),
        due_dates=remaining,
    )
    assert len(lower) == len(remaining)
    assert level_installment(lower) < level_installment(lines)


def test_keeping_the_installment_shortens_an_equal_installment_loan():
    """12,000 over 12 months pays 1,080.49; after 3 installments 9,156.69 is left.

    Prepaying 5,000 on 2026-04-20 leaves 4,156.69 for the 9 remaining dates. Its
    level payment over the first 3 dates would be 1,416.52 (too much) and over
    the first 4 dates 1,068.84 (fits), so the loan now ends on 2026-08-15.
    """
    lines, remaining = loan_after_three_installments(EI)
    shorter = reamortize_keep_installment(
        principal=lines[3].opening_principal - D("5000"),
        daily_rate=D("0.0004"),
        method=EI,
        start_date=date(2026, 4, 20),
        due_dates=remaining,
        installment=level_installment(lines),
    )
    assert level_installment(lines) == D("1080.49")
    assert [line.due_date for line in shorter] == remaining[:4]
    assert shorter[0].days == 25  # interest runs from the prepayment date
    assert level_installment(shorter) == D("1068.84")
    assert sum(line.principal for line in shorter) == D("4156.69")


def test_keeping_the_installment_keeps_the_principal_part_of_an_equal_principal_loan():
    """12,000 over 12 → 1,000 a period; 9,000 left, prepay 4,500 → 4,500 left = 1,000 × 4 + 500."""
    lines, remaining = loan_after_three_installments(EP)
    shorter = reamortize_keep_installment(
        principal=D("4500"),
        daily_rate=D("0.0004"),
        method=EP,
        start_date=date(2026, 4, 15),
        due_dates=remaining,
        installment=lines[0].principal,
    )
    assert [line.principal for line in shorter] == [D("1000.00")] * 4 + [D("500.00")]


def test_a_tiny_prepayment_holds_the_installment_and_the_last_line_absorbs_the_rounding():
    """12,000 at 1,080.49 a month; after 9 installments 3,163.60 is left.

    Prepaying 0.01 on the due date leaves 3,163.59 over 3 dates, whose level
    payment is 1,080.51: the earlier fen roundings left slightly too much
    principal. Raising the installment or adding a date would break the
    option's promise, so 1,080.49 is held and the last line pays 1,080.54.
    """
    lines = schedule_for_new_loan(
        principal=D("12000"), daily_rate=D("0.0004"), method=EI, start_date=date(2026, 1, 15), term_months=12
    )
    held = reamortize_keep_installment(
        principal=lines[9].opening_principal - D("0.01"),
        daily_rate=D("0.0004"),
        method=EI,
        start_date=lines[9].start_date,
        due_dates=[line.due_date for line in lines[9:]],
        installment=level_installment(lines),
    )
    assert [line.total for line in held] == [D("1080.49"), D("1080.49"), D("1080.54")]


def test_a_tiny_prepayment_of_an_equal_principal_loan_keeps_the_part_on_every_date():
    """10,000 over 12 is 833.33 × 11 + 833.37; 9,999.99 left needs all 12 dates: the last takes 833.36."""
    lines = schedule_for_new_loan(
        principal=D("10000"), daily_rate=D("0.0004"), method=EP, start_date=date(2026, 1, 15), term_months=12
    )
    held = reamortize_keep_installment(
        principal=D("9999.99"),
        daily_rate=D("0.0004"),
        method=EP,
        start_date=date(2026, 1, 15),
        due_dates=[line.due_date for line in lines],
        installment=D("833.33"),
    )
    assert [line.principal for line in held] == [D("833.33")] * 11 + [D("833.36")]


def test_an_interest_first_loan_keeps_its_term_after_a_prepayment():
    lines, remaining = loan_after_three_installments(IF)
    kept = reamortize_keep_installment(
        principal=D("7000"),
        daily_rate=D("0.0004"),
        method=IF,
        start_date=date(2026, 4, 20),
        due_dates=remaining,
        installment=lines[0].interest,
    )
    assert kept == build_schedule(
        principal=D("7000"),
        daily_rate=D("0.0004"),
        method=IF,
        start_date=date(2026, 4, 20),
        due_dates=remaining,
    )


def test_keeping_the_installment_refuses_a_non_positive_installment():
    with pytest.raises(ValueError, match="installment"):
        reamortize_keep_installment(**VALID, installment=D("0"))


# Properties ---------------------------------------------------------------


@settings(derandomize=True, max_examples=300)
@given(loan=new_loans())
def test_every_schedule_repays_exactly_the_principal_in_whole_fen(loan):
    lines = schedule_for_new_loan(**loan)
    assert sum(line.principal for line in lines) == loan["principal"]
    assert all(-amount.as_tuple().exponent <= 2 for line in lines for amount in amounts_of(line))
    assert all(line.principal >= 0 and line.interest >= 0 and line.fee >= 0 for line in lines)
    for line, following in zip(lines, lines[1:], strict=False):
        assert following.opening_principal == line.opening_principal - line.principal
        assert following.start_date == line.due_date
    totals = schedule_totals(lines)
    assert totals.total == totals.principal + totals.interest + totals.fee
    assert all(line.total == line.principal + line.interest + line.fee for line in lines)


@settings(derandomize=True, max_examples=100)
@given(loan=new_loans(methods=(IF,)))
def test_interest_first_puts_all_principal_on_the_last_line(loan):
    lines = schedule_for_new_loan(**loan)
    assert [line.principal for line in lines[:-1]] == [D("0.00")] * (len(lines) - 1)
    assert lines[-1].principal == loan["principal"]


@settings(derandomize=True, max_examples=150)
@given(loan=new_loans(methods=(EI,), principals=st.integers(500, 200_000).map(D)))
def test_equal_installments_are_level_except_the_last(loan):
    lines = schedule_for_new_loan(**loan)
    assert len({line.principal + line.interest for line in lines[:-1]}) <= 1


@st.composite
def prepayments(draw):
    """A loan, the installments already paid, and a prepayment inside the next period."""
    loan = draw(new_loans(methods=(EI, EP), principals=st.integers(500, 200_000).map(D), max_term=36))
    loan["term_months"] = max(loan["term_months"], 2)
    lines = schedule_for_new_loan(**loan)
    paid = draw(st.integers(min_value=0, max_value=len(lines) - 2))
    current = lines[paid]
    prepay_fen = draw(st.integers(min_value=1, max_value=int(current.opening_principal * 100) - 1))
    return {
        "loan": loan,
        "lines": lines,
        "remaining_dates": [line.due_date for line in lines[paid:]],
        "prepayment_date": current.start_date + timedelta(days=draw(st.integers(0, current.days - 1))),
        "outstanding": current.opening_principal - D(prepay_fen).scaleb(-2),
    }


@settings(derandomize=True, max_examples=300)
@given(case=prepayments())
def test_keeping_the_installment_never_raises_it_nor_lengthens_the_term(case):
    loan, lines = case["loan"], case["lines"]
    method = loan["method"]
    installment = level_installment(lines) if method is EI else lines[0].principal
    new = reamortize_keep_installment(
        principal=case["outstanding"],
        daily_rate=loan["daily_rate"],
        method=method,
        start_date=case["prepayment_date"],
        due_dates=case["remaining_dates"],
        installment=installment,
        monthly_fee_rate=loan["monthly_fee_rate"],
    )
    assert len(new) <= len(case["remaining_dates"])
    assert sum(line.principal for line in new) == case["outstanding"]
    kept = [line.principal + line.interest if method is EI else line.principal for line in new[:-1]]
    assert all(amount <= installment for amount in kept)
