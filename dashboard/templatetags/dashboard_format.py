"""Per-locale number formats for the dashboard: money with grouping and two places, rates as percents."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def money(value):
    return number_format(value, 2, force_grouping=True) if isinstance(value, Decimal) else value


@register.filter
def cell(value):
    """A table cell: money grouped, 4-place rates as percents, counts grouped, text as is."""
    if isinstance(value, Decimal):
        if value.as_tuple().exponent == -4:
            return f"{number_format(value * 100, 2)} %"
        return number_format(value, 2, force_grouping=True)
    if isinstance(value, int) and not isinstance(value, bool):
        return number_format(value, force_grouping=True)
    return value


@register.filter
def percent(value):
    return f"{number_format(value * 100, 2)} %"
