"""Create the demo administrator for a local run and print how to log in."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "lending-demo"


class Command(BaseCommand):
    help = "Create (or reset) the demo admin user; refused when DEBUG is off."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("the demo admin exists only in development (DEBUG on)")
        user, _ = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        self.stdout.write(
            self.style.SUCCESS(f"Admin: http://127.0.0.1:8000/admin/  user: {DEMO_USERNAME}  password: {DEMO_PASSWORD}")
        )
