from datetime import date

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def create_calendar(apps, schema_editor):
    BusinessCalendar = apps.get_model("core", "BusinessCalendar")
    # Installation day only; from here on the close of day alone moves the date.
    start = (
        date.fromisoformat(settings.BUSINESS_DATE_START)
        if settings.BUSINESS_DATE_START
        else timezone.localdate()
    )
    BusinessCalendar.objects.get_or_create(id=1, defaults={"current_date": start})


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(create_calendar, migrations.RunPython.noop)]
