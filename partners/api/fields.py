"""Strict input fields: money and rates as decimal strings, never floats."""

import re
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.errors import DomainError
from core.validation import amount_positive

_DECIMAL = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,30})?")
_RATE = re.compile(r"0\.[0-9]{1,8}")


def _decimal_text(field: serializers.Field, data) -> str:
    # bool is an int; floats lose cents in binary, so money never travels as a JSON number with a fraction.
    if isinstance(data, bool) or not isinstance(data, str | int):
        field.fail("not_a_string")
    text = str(data)
    if not _DECIMAL.fullmatch(text):
        field.fail("invalid")
    return text


@extend_schema_field({"type": "string", "pattern": r"^[0-9]{1,16}(\.[0-9]{1,2})?$", "example": "12000.00"})
class AmountField(serializers.Field):
    """A positive CNY amount with at most two decimals, as a JSON string ("12000.00")."""

    default_error_messages = {
        "not_a_string": 'must be a decimal string such as "12000.00"',
        "invalid": 'must be a decimal number such as "12000.00"',
    }

    def to_internal_value(self, data) -> Decimal:
        text = _decimal_text(self, data)
        try:
            return amount_positive(Decimal(text), field=self.field_name)
        except DomainError as error:
            raise serializers.ValidationError(error.message, code=error.code) from None

    def to_representation(self, value):
        return str(value)


@extend_schema_field({"type": "string", "pattern": r"^0\.[0-9]{1,8}$", "example": "0.00040000"})
class DailyRateField(serializers.Field):
    """A daily rate below 1 with at most 8 decimals, as a JSON string ("0.0004")."""

    default_error_messages = {
        "not_a_string": 'must be a decimal string such as "0.0004"',
        "invalid": 'must be a decimal below 1 with at most 8 places, such as "0.0004"',
    }

    def to_internal_value(self, data) -> Decimal:
        if isinstance(data, bool) or not isinstance(data, str):
            self.fail("not_a_string")
        if not _RATE.fullmatch(data):
            self.fail("invalid")
        return Decimal(data)

    def to_representation(self, value):
        return str(value)
