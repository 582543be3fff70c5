from core.management.base import DomainCommand
from partners.webhooks import webhook_events_deliver_due


class Command(DomainCommand):
    help = "Attempt every webhook event whose retry is due (run it every minute without a broker)."

    def handle(self, *args, **options):
        attempted = webhook_events_deliver_due()
        self.emit(options, {"attempted": attempted}, f"{attempted} webhook event(s) attempted")
