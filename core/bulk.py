"""Writing many rows at once.

`rows_update` writes the given fields of many model instances in one
statement: on PostgreSQL an UPDATE joined to unnested arrays (fast for tens
of thousands of rows), elsewhere Django's bulk_update in batches. It writes
no history: callers use it for fields excluded from history, or write the
history rows themselves.
"""

from collections.abc import Sequence

from django.db import connection, models

SQLITE_BATCH = 500


def rows_update(model: type[models.Model], rows: Sequence[models.Model], fields: Sequence[str]) -> None:
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._base_manager.bulk_update(rows, fields, batch_size=SQLITE_BATCH)
        return
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    arrays = [[column.get_db_prep_save(getattr(row, column.attname), connection) for row in rows] for column in columns]
    selected = ", ".join(f'unnest(%s::{column.cast_db_type(connection)}[]) AS "{column.column}"' for column in columns)
    assignments = ", ".join(f'"{column.column}" = v."{column.column}"' for column in columns[1:])
    table, pk = meta.db_table, meta.pk.column
    sql = f'UPDATE "{table}" SET {assignments} FROM (SELECT {selected}) AS v WHERE "{table}"."{pk}" = v."{pk}"'
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
