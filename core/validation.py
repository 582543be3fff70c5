"""Checks of user-supplied values that every service shares, raising DomainError naming the field."""

from decimal import Decimal

from core.errors import DomainError
from core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS, MoneyTypeError, as_decimal, is_fen_exact

MAX_AMOUNT = Decimal(10) ** (MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES) - Decimal("0.01")


def amount_positive(value, *, field: str) -> Decimal:
    """A positive amount in yuan with at most two decimals (fen)."""
    try:
        amount = as_decimal(value)
    except MoneyTypeError as error:
        raise DomainError("invalid_amount", f"must be a decimal number ({error})", field=field) from None
    if amount <= 0:
        raise DomainError("amount_not_positive", "must be greater than zero", field=field)
    if not is_fen_exact(amount):
        raise DomainError("amount_too_precise", "must have at most two decimal places (fen)", field=field)
    if amount > MAX_AMOUNT:
        raise DomainError("amount_too_large", f"must not exceed {MAX_AMOUNT}", field=field)
    return amount


def text_required(value: str, *, field: str, max_length: int) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError("required", "is required", field=field)
    if len(value) > max_length:
        raise DomainError("too_long", f"must be at most {max_length} characters", field=field)
    return value
