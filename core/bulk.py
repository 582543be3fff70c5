"""Writing many rows at once.

`rows_update` writes the given fields of many model instances in one
statement and `rows_insert` inserts many rows given as plain values: on
PostgreSQL each is one statement over unnested arrays (fast for tens of
thousands of rows), on SQLite one prepared UPDATE run for every row (executemany) and
bulk_create in batches.
Neither writes history: callers use them for fields excluded from history,
or write the history rows themselves.

The close of day writes tens of thousands of rows per chunk, and profiling
showed Django's per-value preparation and its client-side quoting of every
array element costing more than the database's own work. So on PostgreSQL
values of plain types (numbers, dates, text, booleans, ids) go to psycopg as
they are, and the statement runs on a psycopg cursor that binds parameters
server-side (Django's cursor binds client-side, writing each array into the
SQL text).
"""

from collections.abc import Sequence

from django.db import connection, models
from django.db.backends.utils import CursorWrapper

SQLITE_BATCH = 500

# Fields whose Python value psycopg adapts exactly as Django would prepare it.
PLAIN_TYPES = {
    "AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField", "DateField", "DecimalField",
    "ForeignKey", "IntegerField", "PositiveBigIntegerField", "PositiveIntegerField", "PositiveSmallIntegerField",
    "SlugField", "SmallIntegerField", "TextField",
}  # fmt: skip


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _array(field: models.Field, values: list) -> str | list:
    """One column's values as a query parameter for `unnest(%s::type[])`.

    For plain types, PostgreSQL's text form of the array ('{1.50,NULL,"a b"}'), which the cast parses:
    psycopg would build the same text element by element in Python (with a regular expression per
    value), the largest client-side cost left in a close chunk. Every string is quoted (so "NULL" stays
    a string); numbers and dates are written by str(), whose forms PostgreSQL reads back exactly.
    """
    if field.get_internal_type() not in PLAIN_TYPES:
        return [field.get_db_prep_save(value, connection) for value in values]
    elements = [
        "NULL" if value is None
        else _quoted(value) if isinstance(value, str)
        else ("t" if value else "f") if isinstance(value, bool)
        else str(value)
        for value in values
    ]  # fmt: skip
    return "{" + ",".join(elements) + "}"


def _unnest(fields: Sequence[models.Field]) -> str:
    return ", ".join(f'unnest(%s::{field.cast_db_type(connection)}[]) AS "{field.column}"' for field in fields)


def _server_bound_cursor() -> CursorWrapper:
    # Wrapped so that Django's execute wrappers (query timing, error translation) still apply.
    connection.ensure_connection()
    return CursorWrapper(connection.connection.cursor(), connection)


def rows_update(model: type[models.Model], rows: Sequence[models.Model], fields: Sequence[str]) -> None:
    if not rows or not fields:
        return
    meta = model._meta
    if connection.vendor != "postgresql":
        # One prepared UPDATE per row through executemany: Django's bulk_update builds a CASE expression per
        # field per row, which costs far more to compile than SQLite takes to run the plain statements.
        columns = [meta.get_field(name) for name in fields]
        assignments = ", ".join(f'"{column.column}" = %s' for column in columns)
        sql = f'UPDATE "{meta.db_table}" SET {assignments} WHERE "{meta.pk.column}" = %s'
        params = [
            [*(column.get_db_prep_save(getattr(row, column.attname), connection) for column in columns), row.pk]
            for row in rows
        ]
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
        return
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    arrays = [_array(column, [getattr(row, column.attname) for row in rows]) for column in columns]
    assignments = ", ".join(f'"{column.column}" = v."{column.column}"' for column in columns[1:])
    table, pk = meta.db_table, meta.pk.column
    sql = f'UPDATE "{table}" SET {assignments} FROM (SELECT {_unnest(columns)}) AS v WHERE "{table}"."{pk}" = v."{pk}"'
    with _server_bound_cursor() as cursor:
        cursor.execute(sql, arrays)


def rows_insert(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence]) -> list[int]:
    """Insert `rows` (tuples of values for `fields`, by attname) in one statement; return their new ids in order.

    On PostgreSQL the ids are drawn from the table's sequence first and
    inserted explicitly, so matching ids to rows does not depend on the order
    of a RETURNING clause.
    """
    if not rows:
        return []
    meta = model._meta
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(fields, row, strict=True))) for row in rows]
        model._base_manager.bulk_create(objects, batch_size=SQLITE_BATCH)
        return [obj.pk for obj in objects]
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    table, pk = meta.db_table, meta.pk.column
    with _server_bound_cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk, len(rows)]
        )
        ids = sorted(row[0] for row in cursor.fetchall())
        by_column = zip(*rows, strict=True)
        arrays = [ids, *(_array(column, list(values)) for column, values in zip(columns[1:], by_column, strict=True))]
        names = ", ".join(f'"{column.column}"' for column in columns)
        cursor.execute(f'INSERT INTO "{table}" ({names}) SELECT {_unnest(columns)}', arrays)
    return ids
