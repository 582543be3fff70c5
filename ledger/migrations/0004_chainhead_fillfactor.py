"""Room on each chain-head page so that moving a head (every posting) is a HOT update on PostgreSQL.

A head's sequence and hash are not indexed; with free space on its page the
new row version stays there and neither index of the table is written. See
lending/migrations/0004_installment_hot_updates.py. SQLite has no such setting.
"""

from django.db import migrations


def fillfactor_set(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE ledger_chainhead SET (fillfactor = 70)")


def fillfactor_reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE ledger_chainhead RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0003_postgres_guards"),
    ]

    operations = [migrations.RunPython(fillfactor_set, fillfactor_reset)]
