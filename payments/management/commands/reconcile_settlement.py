"""Reconcile a gateway's settlement file for a date: `manage.py reconcile_settlement --gateway G --date D`."""

from pathlib import Path

from django.core.management.base import CommandError

from core.management.base import DomainCommand, parse_date
from payments.gateways.base import settlement_csv_parse
from payments.services.settlement import settlement_reconcile


class Command(DomainCommand):
    help = "Match a gateway's settlement file line by line with our instructions and ledger; posts nothing."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--gateway", required=True)
        parser.add_argument("--date", required=True, type=parse_date)
        parser.add_argument("--file", type=Path, help="a CSV (reference,gateway_reference,amount); default: fetched")

    def handle(self, *args, **options):
        lines = None
        if options["file"]:
            try:
                lines = settlement_csv_parse(options["file"].read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise CommandError(str(error)) from None
        report = settlement_reconcile(gateway=options["gateway"], on_date=options["date"], lines=lines)
        breaks = list(report.break_rows.values("kind", "reference", "our_amount", "their_amount"))
        text = [f"{report}: {report.lines_in_file} lines in the file"]
        text += [f"  {row['kind']:<16} {row['reference']}  ours={row['our_amount']} theirs={row['their_amount']}"
                 for row in breaks]  # fmt: skip
        self.emit(
            options,
            {
                "report_id": report.pk,
                "lines_in_file": report.lines_in_file,
                "matched": report.matched,
                "breaks": breaks,
            },
            "\n".join(text),
        )
