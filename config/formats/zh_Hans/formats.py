"""Simplified Chinese formats: Django's, except amounts grouped by thousands with a comma.

Django ships zh_Hans with no thousand separator (grouping by 4); Chinese bank statements and
loan contracts write CNY amounts as 1,234,567.50, and risk staff compare them with those.
"""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403 - the rest of Django's zh_Hans formats

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
