"""Export sealed days of the ledger as JSON Lines for an offline audit (tools/verify_ledger_export.py)."""

import itertools

from django.core.management.base import CommandError

from core.management.base import DomainCommand, parse_date
from ledger.export import ledger_export_records, record_dumps


class Command(DomainCommand):
    help = "Write the entries, lines, hashes, chain links and seals of sealed days D1..D2 as JSON Lines."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--from", dest="date_from", required=True, type=parse_date, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", required=True, type=parse_date, help="last day, YYYY-MM-DD")
        parser.add_argument("--out", help="file to write (default: standard output)")

    def handle(self, *args, date_from, date_to, out=None, **options):
        records = ledger_export_records(date_from=date_from, date_to=date_to)
        # Take the header first: a bad range fails before an output file is created.
        records = itertools.chain([next(records)], records)
        if not out:
            for record in records:
                self.stdout.write(record_dumps(record))
            return
        try:
            with open(out, "w", encoding="utf-8") as stream:
                for record in records:
                    stream.write(record_dumps(record) + "\n")
        except OSError as error:
            raise CommandError(f"cannot write {out}: {error.strerror}") from None
        self.stderr.write(
            f"exported {record['entries']} entries, {record['lines']} lines, {record['seals']} seals to {out}\n"
        )
