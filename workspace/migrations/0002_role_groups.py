"""The staff role groups with their permissions (workspace.roles); post_migrate keeps them complete later."""

from django.db import migrations


def create_roles(apps, schema_editor):
    from workspace.roles import roles_sync

    roles_sync(apps=apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    # After every app whose permissions a role names, so that they exist in this state.
    dependencies = [
        ("workspace", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0002_business_calendar_row"),
        ("ledger", "0004_chainhead_fillfactor"),
        ("lending", "0006_loan_premium_rate"),
        ("underwriting", "0002_application_approve_second_permission"),
        ("collections", "0002_collectors_group"),
        ("insurance", "0002_accounts_and_funders"),
        ("partners", "0002_alter_webhookevent_type"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
