"""Writing many rows at once.

`rows_update` writes the given fields of many model instances: on
PostgreSQL in one UPDATE joined to unnested arrays (fast for tens of
thousands of rows), on SQLite as one prepared UPDATE run for every row
(executemany). It writes no history: callers use it for fields excluded from history, or write the
history rows themselves.
"""

from collections.abc import Sequence

from django.db import connection, models


def rows_update(model: type[models.Model], rows: Sequence[models.Model], fields: Sequence[str]) -> None:
    if not rows:
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
    arrays = [[column.get_db_prep_save(getattr(row, column.attname), connection) for row in rows] for column in columns]
    selected = ", ".join(f'unnest(%s::{column.cast_db_type(connection)}[]) AS "{column.column}"' for column in columns)
    assignments = ", ".join(f'"{column.column}" = v."{column.column}"' for column in columns[1:])
    table, pk = meta.db_table, meta.pk.column
    sql = f'UPDATE "{table}" SET {assignments} FROM (SELECT {selected}) AS v WHERE "{table}"."{pk}" = v."{pk}"'
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
