"""Project-wide test configuration.

Tests marked `postgres` need PostgreSQL (row locks, triggers, real
concurrency); on SQLite they are skipped with the reason shown in the summary.
"""

import pytest
from django.conf import settings
from hypothesis import settings as hypothesis_settings

# Deterministic property tests in CI; locally too, so a failure reproduces.
hypothesis_settings.register_profile("project", derandomize=True, deadline=None, print_blob=True)
hypothesis_settings.load_profile("project")

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def pytest_collection_modifyitems(config, items):
    if ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://…; runs in the CI PostgreSQL leg)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
