from django.contrib.auth.management import create_permissions
from django.db import migrations

COLLECTORS_GROUP = "collectors"
# The workbench: see and work cases (change = run the workbench actions), see their records.
PERMISSIONS = [
    "view_collectioncase",
    "change_collectioncase",
    "view_promisetopay",
    "view_contactattempt",
    "view_collectorprofile",
]


def create_group(apps, schema_editor):
    # Permissions are normally created after all migrations; the group needs them now. The
    # historical app config has no models module, which create_permissions takes for "no models".
    app_config = apps.get_app_config("collections")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=COLLECTORS_GROUP)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="collections", codename__in=PERMISSIONS)
    )


class Migration(migrations.Migration):
    dependencies = [("collections", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_group, migrations.RunPython.noop)]
