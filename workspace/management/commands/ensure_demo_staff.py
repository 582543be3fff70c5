"""Create one demo staff user per role for a local run, so each role's view of the admin can be tried."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from core.management.commands.ensure_demo_admin import DEMO_PASSWORD
from debt_collection.models import CollectorProfile
from debt_collection.services import COLLECTORS_GROUP
from workspace.roles import ROLES

DEMO_USERS = {
    "risk analysts": "analyst",
    "underwriters": "underwriter",
    "senior underwriters": "senior",
    COLLECTORS_GROUP: "collector",
    "collections managers": "manager",
    "claims officers": "claims",
    "finance": "finance",
    "auditors": "auditor",
    "administrators": "administrator",
}


class Command(BaseCommand):
    help = "Create (or reset) a demo staff user in each role group; refused when DEBUG is off."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("the demo staff exist only in development (DEBUG on)")
        for role in ROLES:
            username = DEMO_USERS[role.group]
            user, _ = get_user_model().objects.get_or_create(username=username)
            user.is_staff = user.is_active = True
            user.is_superuser = False
            user.set_password(DEMO_PASSWORD)
            user.save()
            user.groups.set([Group.objects.get(name=role.group)])
            if role.group == COLLECTORS_GROUP:
                CollectorProfile.objects.get_or_create(user=user)
            self.stdout.write(f"{role.title}: user {username}  password {DEMO_PASSWORD}\n")
