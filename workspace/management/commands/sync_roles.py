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
        roles = {role.group: f"{role.title}: {role.summary}" for role in ROLES}
        text = "".join(f"{group} — {description}\n" for group, description in roles.items())
        self.emit(options, {"groups": roles}, f"{len(roles)} role groups in sync:\n{text}")
