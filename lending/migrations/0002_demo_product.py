from decimal import Decimal

from django.db import migrations


def create_demo_product(apps, schema_editor):
    Product = apps.get_model("lending", "Product")
    Product.objects.get_or_create(
        code="revolving-cash-line",
        defaults={
            "name": "Revolving cash line",
            "currency": "CNY",
            "min_limit": Decimal("1000"),
            "max_limit": Decimal("200000"),
            "min_drawdown": Decimal("500"),
            "drawdown_multiple": Decimal("100"),
            "min_daily_rate": Decimal("0.0002"),
            "default_daily_rate": Decimal("0.0004"),
            "max_daily_rate": Decimal("0.0006"),
            "day_count": 365,
            "terms": [3, 6, 12],
            "methods": ["equal_installment", "equal_principal", "interest_first"],
            "monthly_fee_rate": Decimal("0"),
            "penalty_multiplier": Decimal("1.5"),
            "grace_days": 0,
            "apr_cap": Decimal("0.24"),
            "freeze_dpd": 1,
            "npl_dpd": 90,
            "write_off_dpd": 180,
            "allocation": "by_installment",
            "component_order": ["penalty", "fee", "interest", "principal"],
            "prepayment": "keep_term",
            "residue_tolerance": Decimal("1.00"),
        },
    )


class Migration(migrations.Migration):
    dependencies = [("lending", "0001_initial")]
    operations = [migrations.RunPython(create_demo_product, migrations.RunPython.noop)]
