"""Model fields for money and rates, so precision is declared once."""

from django.db import models

from core.money import (
    MONEY_DECIMAL_PLACES,
    MONEY_MAX_DIGITS,
    RATE_DECIMAL_PLACES,
    RATE_MAX_DIGITS,
)


class MoneyField(models.DecimalField):
    """A CNY amount to the fen."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", MONEY_MAX_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs


class RateField(models.DecimalField):
    """A rate (daily, monthly, ratio) with 8 decimal places."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", RATE_MAX_DIGITS)
        kwargs.setdefault("decimal_places", RATE_DECIMAL_PLACES)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs
