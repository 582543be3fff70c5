"""The monthly bordereau of one insurer: every covered loan and its status, as CSV."""

from pathlib import Path

from core.management.base import DomainCommand
from insurance.reports import BORDEREAU_COLUMNS, bordereau, csv_text, insurer_get


class Command(DomainCommand):
    help = "Export an insurer's monthly bordereau (covered loans, premium, claims) as CSV."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--insurer", required=True, help="insurer code")
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--output", help="write the CSV to this file instead of stdout")

    def handle(self, *args, **options):
        rows = bordereau(insurer=insurer_get(options["insurer"]), month=options["month"])
        if options["json"]:
            self.emit(options, {"insurer": options["insurer"], "month": options["month"], "loans": rows}, "")
            return
        text = csv_text(BORDEREAU_COLUMNS, rows)
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
            self.stderr.write(f"{len(rows)} loans written to {options['output']}")
        else:
            self.stdout.write(text, ending="")
