from django.db import migrations

from ledger.chart import ACCOUNTS


def seed_chart(apps, schema_editor):
    Account = apps.get_model("ledger", "Account")
    for code, name, kind in ACCOUNTS:
        Account.objects.update_or_create(code=code, defaults={"name": name, "kind": kind})


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(seed_chart, migrations.RunPython.noop)]
