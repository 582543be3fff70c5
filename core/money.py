"""Money and rate arithmetic: Decimal only, rounded once, to the fen, by one helper.

Amounts are CNY with fen (0.01) precision, rounded ROUND_HALF_UP. Daily rates
carry 8 decimal places (0.00040000 = 0.04 %/day). A float reaching this module
is a bug upstream, so it raises instead of being converted.
"""

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")
RATE_QUANTUM = Decimal("0.00000001")
ZERO = Decimal("0.00")

MONEY_MAX_DIGITS = 18
MONEY_DECIMAL_PLACES = 2
RATE_MAX_DIGITS = 12
RATE_DECIMAL_PLACES = 8


class MoneyTypeError(TypeError):
    """A value that cannot be money: a float, NaN, infinity, or not a number at all."""


def as_decimal(value: Decimal | int | str) -> Decimal:
    """Return `value` as a finite Decimal; floats, bools, NaN and infinities raise."""
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyTypeError(f"{type(value).__name__} {value!r} cannot be used as money; use Decimal")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise MoneyTypeError(f"{value!r} is not a number") from None
    else:
        raise MoneyTypeError(f"{type(value).__name__} cannot be used as money; use Decimal")
    if not result.is_finite():
        raise MoneyTypeError(f"{value!r} is not a finite number")
    return result


def round_fen(value: Decimal | int | str) -> Decimal:
    """The one rounding helper for amounts: to the fen, half up."""
    return as_decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def round_rate(value: Decimal | int | str) -> Decimal:
    """Rates (daily, periodic) to 8 decimal places, half up."""
    return as_decimal(value).quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)


def is_fen_exact(value: Decimal) -> bool:
    """True when `value` has no more than two decimal places."""
    return as_decimal(value) == as_decimal(value).quantize(FEN)


def split_by_weights(amount: Decimal, weights: Sequence[Decimal | int]) -> list[Decimal]:
    """Split `amount` (fen-exact) into parts proportional to `weights`.

    Parts are rounded down to the fen and the leftover fen go, one each, to
    the parts with the largest rounding remainders (ties to the earlier part),
    so the parts always sum exactly to `amount` and the result is
    deterministic. Weights must be non-negative and not all zero.
    """
    amount = as_decimal(amount)
    if not is_fen_exact(amount):
        raise ValueError(f"amount {amount} has more than two decimal places")
    decimal_weights = [as_decimal(w) for w in weights]
    if not decimal_weights:
        raise ValueError("at least one weight is needed")
    if any(w < 0 for w in decimal_weights):
        raise ValueError("weights must not be negative")
    total_weight = sum(decimal_weights)
    if total_weight == 0:
        raise ValueError("weights must not all be zero")

    sign = -1 if amount < 0 else 1
    magnitude = abs(amount)
    exact = [magnitude * w / total_weight for w in decimal_weights]
    parts = [e.quantize(FEN, rounding=ROUND_DOWN) for e in exact]
    leftover_fen = int((magnitude - sum(parts)) / FEN)
    by_remainder = sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))
    for index in by_remainder[:leftover_fen]:
        parts[index] += FEN
    return [sign * p for p in parts]
