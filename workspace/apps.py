from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    name = "workspace"
    verbose_name = _("Risk workspace")

    def ready(self):
        from workspace.roles import roles_sync_after_migrate

        # Every app's migrate ends in post_migrate; re-syncing then gives the roles the permissions of
        # models added since the data migration ran (a role that views "everything" must include them).
        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="workspace_roles_sync")
