"""Give every role's group exactly the permissions of workspace.roles (migrate does this too)."""

from django.core.management.base import CommandError

from core.management.base import DomainCommand
from workspace.roles import ROLES, roles_sync


class Command(DomainCommand):
    help = "Create or update the staff role groups and their permissions (idempotent)."

    def handle(self, *args, **options):
        problems = roles_sync()
        if problems:
            raise CommandError(f"permissions named by a role do not exist: {problems}")
        groups = [role.group for role in ROLES]
        self.emit(options, {"groups": groups}, f"{len(groups)} role groups in sync: {', '.join(groups)}\n")
