from decimal import Decimal

from django.db import migrations

# Frozen here: the migration must seed the same rows whatever ledger/chart.py says later.
ACCOUNTS = [
    ("compensated_loans", "Loans compensated by insurers (subrogated)", "asset"),
    ("subrogation_payable", "Recoveries owed to insurers", "liability"),
    ("funder_loss_bank", "Credit losses borne by bank funders", "expense"),
    ("funder_loss_platform", "Credit losses borne by the platform", "expense"),
    ("losses_shared", "Credit losses moved to insurers and funders", "expense"),
]

# DOMAIN.md joint lending default: bank 70 % / platform 30 % of each loan.
FUNDERS = [
    ("partner-bank", "Partner bank", "bank", Decimal("0.70")),
    ("platform", "Platform", "platform", Decimal("0.30")),
]


def seed(apps, schema_editor):
    Account = apps.get_model("ledger", "Account")
    for code, name, kind in ACCOUNTS:
        Account.objects.update_or_create(code=code, defaults={"name": name, "kind": kind})
    Funder = apps.get_model("insurance", "Funder")
    for code, name, kind, share in FUNDERS:
        Funder.objects.get_or_create(code=code, defaults={"name": name, "kind": kind, "default_share": share})


class Migration(migrations.Migration):
    dependencies = [("insurance", "0001_initial"), ("ledger", "0002_chart_of_accounts")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
