"""Money arithmetic: one rounding rule, exact splits, and no floats."""

from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import (
    FEN,
    RATE_QUANTUM,
    MoneyTypeError,
    as_decimal,
    is_fen_exact,
    round_fen,
    round_rate,
    split_by_weights,
)

# Amounts from -10 billion to +10 billion yuan, always fen-exact.
amounts = st.integers(min_value=-(10**12), max_value=10**12).map(lambda fen: Decimal(fen) * FEN)
weight = st.one_of(
    st.integers(min_value=0, max_value=10**6),
    st.decimals(min_value=0, max_value=10**6, places=8, allow_nan=False, allow_infinity=False),
)
weight_lists = st.lists(weight, min_size=1, max_size=12).filter(lambda ws: sum(ws) > 0)


def _exact_share(amount: Decimal, weights, index: int) -> Decimal:
    with localcontext() as context:
        context.prec = 80
        return amount * Decimal(weights[index]) / sum(Decimal(w) for w in weights)


# --- split_by_weights --------------------------------------------------------


@given(amount=amounts, weights=weight_lists)
def test_split_parts_sum_exactly_to_the_amount(amount, weights):
    assert sum(split_by_weights(amount, weights)) == amount


@given(amount=amounts, weights=weight_lists)
def test_split_gives_one_fen_exact_part_per_weight(amount, weights):
    parts = split_by_weights(amount, weights)

    assert len(parts) == len(weights)
    assert all(part == part.quantize(FEN) for part in parts)


@given(amount=amounts, weights=weight_lists)
def test_split_is_deterministic(amount, weights):
    assert split_by_weights(amount, weights) == split_by_weights(amount, list(weights))


@given(amount=amounts, weights=weight_lists)
def test_each_split_part_is_within_one_fen_of_its_exact_share(amount, weights):
    parts = split_by_weights(amount, weights)

    for index, part in enumerate(parts):
        assert abs(part - _exact_share(amount, weights, index)) < FEN


@given(amount=amounts, weights=weight_lists)
def test_split_parts_carry_the_sign_of_the_amount(amount, weights):
    parts = split_by_weights(amount, weights)

    if amount >= 0:
        assert all(part >= 0 for part in parts)
    else:
        assert all(part <= 0 for part in parts)


def test_split_gives_leftover_fen_to_the_largest_remainders_earlier_part_first():
    assert split_by_weights(Decimal("100.00"), [1, 1, 1]) == [
        Decimal("33.34"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]
    assert split_by_weights(Decimal("0.01"), [1, 1]) == [Decimal("0.01"), Decimal("0.00")]
    assert split_by_weights(Decimal("10.00"), [1, 2]) == [Decimal("3.33"), Decimal("6.67")]


@pytest.mark.parametrize(
    "amount, weights",
    [
        (Decimal("1.005"), [1, 1]),
        (Decimal("1.00"), []),
        (Decimal("1.00"), [1, -1]),
        (Decimal("1.00"), [0, 0]),
    ],
    ids=["amount-not-fen-exact", "no-weights", "negative-weight", "all-weights-zero"],
)
def test_split_refuses_bad_input(amount, weights):
    with pytest.raises(ValueError):
        split_by_weights(amount, weights)


def test_split_refuses_a_float_weight():
    with pytest.raises(MoneyTypeError):
        split_by_weights(Decimal("1.00"), [0.5, 0.5])


# --- round_fen -----------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (Decimal("0.005"), Decimal("0.01")),
        (Decimal("0.015"), Decimal("0.02")),
        (Decimal("0.025"), Decimal("0.03")),
        (Decimal("-0.005"), Decimal("-0.01")),
        (Decimal("2.675"), Decimal("2.68")),
        (Decimal("0.004999"), Decimal("0.00")),
        (Decimal("-2.674"), Decimal("-2.67")),
        ("1.005", Decimal("1.01")),
        (7, Decimal("7.00")),
    ],
)
def test_round_fen_rounds_half_up_to_the_fen(value, expected):
    result = round_fen(value)

    assert result == expected
    assert result.as_tuple().exponent == -2


@given(st.decimals(min_value=-(10**12), max_value=10**12, allow_nan=False, allow_infinity=False, places=6))
def test_round_fen_is_within_half_a_fen_and_fen_exact(value):
    result = round_fen(value)

    assert is_fen_exact(result)
    assert abs(result - value) <= FEN / 2


@pytest.mark.parametrize(
    "value",
    [
        2.675,
        0.1,
        1.0,
        True,
        False,
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        "NaN",
        "inf",
        "-Infinity",
        "abc",
        "",
        "1,000.00",
        "¥100",
        None,
        [Decimal("1")],
    ],
    ids=repr,
)
def test_anything_but_a_finite_decimal_int_or_numeric_string_is_not_money(value):
    with pytest.raises(MoneyTypeError):
        round_fen(value)
    with pytest.raises(MoneyTypeError):
        as_decimal(value)


def test_money_type_error_is_a_type_error():
    assert issubclass(MoneyTypeError, TypeError)


# --- round_rate ----------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (Decimal("0.0004"), Decimal("0.00040000")),
        (Decimal("0.000123455"), Decimal("0.00012346")),
        (Decimal("0.000123454999"), Decimal("0.00012345")),
        (Decimal("0.000000005"), Decimal("0.00000001")),
        (Decimal("-0.000000005"), Decimal("-0.00000001")),
        ("0.24", Decimal("0.24000000")),
    ],
)
def test_round_rate_rounds_half_up_to_eight_places(value, expected):
    result = round_rate(value)

    assert result == expected
    assert result.as_tuple().exponent == RATE_QUANTUM.as_tuple().exponent == -8


def test_round_rate_refuses_a_float():
    with pytest.raises(MoneyTypeError):
        round_rate(0.0004)


# --- is_fen_exact ----------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (Decimal("1"), True),
        (Decimal("1.10"), True),
        (Decimal("1.100"), True),
        (Decimal("1.001"), False),
        (Decimal("-0.015"), False),
    ],
)
def test_is_fen_exact_says_whether_a_value_has_at_most_two_decimal_places(value, expected):
    assert is_fen_exact(value) is expected
