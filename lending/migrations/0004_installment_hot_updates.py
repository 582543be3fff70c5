"""Let the close of day's daily updates be HOT (heap-only) on PostgreSQL.

A day's close rewrites, for each loan with something happening, its overdue
installments' penalty, the loan's balances and `closed_through`, and its
ledger chain head: none of those columns is indexed, so PostgreSQL can update
the row in place on its page without touching any index, if the page has
room. Full pages (the default fillfactor of 100) send every new row version
to another page and write an entry in every index. Leaving room on each page
makes those updates HOT. The installment's own loan index goes too: the
(loan, number) unique constraint already serves look-ups by loan.

The fillfactor applies to pages written from now on; an existing large table
takes it when rewritten (VACUUM FULL or pg_repack in a maintenance window).
SQLite has no such setting.
"""

from django.db import migrations, models

FILLFACTORS = {"lending_installment": 80, "lending_loan": 85}


def fillfactor_set(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table, fillfactor in FILLFACTORS.items():
            schema_editor.execute(f'ALTER TABLE "{table}" SET (fillfactor = {fillfactor})')


def fillfactor_reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in FILLFACTORS:
            schema_editor.execute(f'ALTER TABLE "{table}" RESET (fillfactor)')


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0003_delinquency"),
    ]

    operations = [
        migrations.AlterField(
            model_name="installment",
            name="loan",
            field=models.ForeignKey(
                db_index=False,
                on_delete=models.deletion.PROTECT,
                related_name="installments",
                to="lending.loan",
            ),
        ),
        migrations.RunPython(fillfactor_set, fillfactor_reset),
    ]
