"""Train a PD model from the portfolio's outcomes or a CSV, report cross-validated metrics, store a version."""

from django.core.management.base import CommandError

from core.business_date import business_date_current
from core.management.base import DomainCommand
from underwriting.registry import model_train_register
from underwriting.selectors import portfolio_dataset
from underwriting.training import dataset_from_csv


class Command(DomainCommand):
    help = __doc__

    def add_arguments(self, parser):
        super().add_arguments(parser)
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument(
            "--from-portfolio", action="store_true", help="approved applications; bad = 90+ DPD or written off"
        )
        source.add_argument("--csv", metavar="PATH", help="a CSV with a header row (numeric and text columns)")
        parser.add_argument("--target", metavar="COLUMN", help="the 0/1 outcome column of the CSV")
        parser.add_argument("--window-days", type=int, default=180, help="performance window (portfolio)")
        parser.add_argument("--folds", type=int, default=5)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--activate", action="store_true", help="make the new version the live model")

    def handle(self, *args, **options):
        if options["csv"]:
            if not options["target"]:
                raise CommandError("--csv needs --target COLUMN")
            dataset = dataset_from_csv(options["csv"], target=options["target"])
            source, target = options["csv"], options["target"]
        else:
            dataset = portfolio_dataset(today=business_date_current(), window_days=options["window_days"])
            source, target = "portfolio", f"90+ DPD or written off within {options['window_days']} days"
        self.stderr.write(f"training on {len(dataset.y)} rows, {int(dataset.y.sum())} bad, {options['folds']} folds…\n")
        version = model_train_register(
            dataset=dataset,
            source=source,
            target=target,
            folds=options["folds"],
            seed=options["seed"],
            activate=options["activate"],
        )
        m = version.metrics
        result = {
            "version": version.version,
            "active": version.is_active,
            "features": version.feature_names,
            "categorical": version.categorical,
            "data_fingerprint": version.data_fingerprint,
            "artifact_sha256": version.artifact_sha256,
            **m,
        }
        lines = [
            f"model v{version.version}{' (active)' if version.is_active else ''}: {m['rows']} rows, "
            f"bad rate {m['bad_rate']:.2%}",
            f"cross-validated ({m['folds']} folds): AUC {m['auc']:.4f}  KS {m['ks']:.4f}  Gini {m['gini']:.4f}  "
            f"Brier {m['brier']:.5f}  fold AUCs {m['fold_auc']}",
            "calibration  bin  count  predicted  observed",
            *(
                f"             {row['bin']:>3}  {row['count']:>5}  {row['predicted']:>9.4f}  {row['observed']:>8.4f}"
                for row in m["calibration"]
            ),
        ]
        self.emit(options, result, "\n".join(lines))
