"""An insurer's premium statement for a month: premiums collected per policy and the total owed."""

from core.management.base import DomainCommand
from insurance.reports import insurer_get, premium_statement


class Command(DomainCommand):
    help = "Premiums collected for an insurer in a month, per policy (net of reversed repayments)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--insurer", required=True, help="insurer code")
        parser.add_argument("--month", required=True, help="YYYY-MM")

    def handle(self, *args, **options):
        statement = premium_statement(insurer=insurer_get(options["insurer"]), month=options["month"])
        lines = [f"Premium statement {statement['insurer']} {statement['month']}"]
        lines += [f"  {row['policy']}: {row['premium']} from {row['loans']} loans" for row in statement["policies"]]
        lines.append(f"  total owed: {statement['total']}")
        self.emit(options, statement, "\n".join(lines))
