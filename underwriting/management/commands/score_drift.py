"""Population stability index of application scores per month against the live model's training baseline."""

from core.business_date import business_date_current
from core.management.base import DomainCommand
from underwriting.monitoring import score_drift


class Command(DomainCommand):
    help = __doc__

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--months", type=int, default=12)

    def handle(self, *args, **options):
        rows = score_drift(months=options["months"], today=business_date_current())
        verdict = {True: "act (≥ 0.25)", False: "watch (≥ 0.10)"}
        lines = [
            f"{row['month']}  {row['applications']:>6} applications  PSI {row['psi']:.4f}"
            + (f"  {verdict[row['psi'] >= 0.25]}" if row["psi"] >= 0.1 else "")
            for row in rows
        ]
        self.emit(options, {"months": rows}, "\n".join(lines) or "no applications scored by the live model")
