"""Close the open business date, or every date up to --until, one by one."""

from core.business_date import business_date_current
from core.close import days_close_until
from core.management.base import DomainCommand, StderrProgress, parse_date


class Command(DomainCommand):
    help = "Close the open business date (and each following date up to --until), then open the next."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--until", type=parse_date, help="close every date up to and including this one")

    def handle(self, *args, **options):
        start = business_date_current()
        until = options["until"] or start
        progress = StderrProgress(days=(until - start).days + 1)
        try:
            closed = days_close_until(until=until, progress=progress)
        finally:
            progress.close()
        now_open = business_date_current()
        self.emit(
            options,
            {"closed": [d.isoformat() for d in closed], "open": now_open.isoformat()},
            f"Closed {len(closed)} day(s), {closed[0]} to {closed[-1]}; business date is now {now_open}.",
        )
