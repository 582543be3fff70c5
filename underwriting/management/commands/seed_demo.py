"""Seed the demo portfolio: applicants, underwriting, drawdowns, repayments and months of close of day,
then train and activate a PD model on the outcomes. Does nothing when the demo is already seeded."""

import sys
from datetime import timedelta

from tqdm import tqdm

from core.business_date import business_date_current
from core.errors import DomainError
from core.management.base import DomainCommand
from lending.selectors import portfolio_figures
from underwriting.registry import model_train_register
from underwriting.selectors import portfolio_dataset
from underwriting.simulator import Simulator, demo_seeded


class Command(DomainCommand):
    help = __doc__

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--borrowers", type=int, default=2000)
        parser.add_argument("--months", type=int, default=12)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--window-days", type=int, default=180, help="performance window for the model")

    def handle(self, *args, **options):
        if demo_seeded():
            self.emit(options, {"seeded": False, "reason": "already seeded"}, "demo portfolio already seeded")
            return
        bar = tqdm(total=None, unit="day", desc="demo portfolio", file=sys.stderr)

        def progress(done, total):
            bar.total = total
            bar.update(1)

        simulator = Simulator(
            borrowers=options["borrowers"], months=options["months"], seed=options["seed"], progress=progress
        )
        report = simulator.run()
        bar.close()
        figures = portfolio_figures(as_of=report.end - timedelta(days=1)).as_dict()
        # A short demo cannot wait a full window: use what has elapsed since the last application arrived.
        window = min(options["window_days"], simulator.days - simulator.intake_days)
        dataset = portfolio_dataset(today=business_date_current(), window_days=window)
        self.stderr.write(f"training on {len(dataset.y)} matured applications, {int(dataset.y.sum())} bad…\n")
        try:
            version = model_train_register(
                dataset=dataset,
                source="portfolio",
                target=f"90+ DPD or written off within {window} days",
                activate=True,
            )
        except DomainError as error:
            self.stderr.write(f"no model trained ({error}); the built-in scorecard stays live\n")
        else:
            report.model_version, report.model_metrics = version.version, version.metrics
        result = {"seeded": True, **report.__dict__, "portfolio": figures}
        metrics = report.model_metrics
        self.emit(
            options,
            result,
            f"seeded {report.borrowers} applicants ({report.approved} approved, {report.manual_review} in review, "
            f"{report.declined} declined), {report.loans} loans, {report.repayments} repayments, "
            f"{report.days_closed} days closed ({report.start} → {report.end})\n"
            f"30+ DPD {figures.get('dpd30_rate')}, 90+ DPD {figures.get('dpd90_rate')}\n"
            + (
                f"model v{report.model_version} active: AUC {metrics['auc']} KS {metrics['ks']}"
                if report.model_version
                else "no model trained"
            ),
        )
