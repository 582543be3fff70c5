"""Database-wide locks that are not tied to one row.

PostgreSQL advisory locks serialise work across processes and machines.
SQLite already serialises every writer (IMMEDIATE transactions), so there
the helpers do nothing.
"""

from django.db import connection

# Writers that stamp the business date take it shared; the close of day takes
# it exclusively while it seals the day and moves the date, so no entry can
# land on a day after its seal.
BUSINESS_DATE_LOCK = 7301001
# Only one close of day runs at a time.
CLOSE_RUN_LOCK = 7301002


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def advisory_xact_lock(key: int) -> None:
    if _is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def advisory_try_lock(key: int) -> bool:
    """Session-level lock; pair with advisory_unlock. True when acquired."""
    if not _is_postgres():
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        return cursor.fetchone()[0]


def advisory_unlock(key: int) -> None:
    if _is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
