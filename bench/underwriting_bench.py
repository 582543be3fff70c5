"""Underwriting benchmarks: decision latency, batch re-scoring of credit lines, hold-out AUC/KS of the demo book.

    python bench/underwriting_bench.py decide [--applications 500]     # PostgreSQL, own database
    python bench/underwriting_bench.py rescore [--lines 1000000]       # PostgreSQL, builds a synthetic book
    python bench/underwriting_bench.py holdout --sqlite db.sqlite3     # a database seeded by seed_demo

`decide` times `application_submit` end to end (rules + model + persistence + opening the line),
one application per transaction, with an active trained model, and compares the numpy scoring path
with scikit-learn's single-row `predict_proba`. `rescore` builds the close-of-day benchmark's book
(bench/close_day_book.py: one line and one loan per borrower) and times `limits_reassess`, first as a
dry run (read + score) and then writing. `holdout` splits the demo portfolio's matured applications
70/30 (stratified), trains on 70 % and reports AUC/KS on the 30 % never seen, next to the built-in
scorecard on the same rows.
"""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime
from datetime import time as clock
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DECIDE_URL = "postgres://postgres@127.0.0.1:5432/lending_bench_uw_decide"
RESCORE_URL = "postgres://postgres@127.0.0.1:5432/lending_bench_uw"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values, share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def decide(args) -> dict:
    import _django

    _django.setup(database_url=args.database_url or DECIDE_URL)
    import numpy as np
    from stdnum.cn import ric

    from core.business_date import business_date_set
    from lending.models import Partner
    from lending.services.borrowers import borrower_onboard_person
    from underwriting.features import FEATURE_NAMES, features_build
    from underwriting.registry import model_train_register, pipeline_load, scorer_for
    from underwriting.services import application_submit
    from underwriting.simulator import Simulator
    from underwriting.training import dataset_from_rows

    today = business_date_set(new_date=date(2031, 3, 1), reason="benchmark")
    simulator = Simulator(borrowers=0, months=1, seed=1)
    rng = np.random.default_rng(5)
    rows, labels = [], []
    for _ in range(5000):
        z = float(rng.normal())
        _, data, _ = simulator._applicant(z, today)
        rows.append([features_build(data, is_business=False)[name] for name in FEATURE_NAMES])
        labels.append(int(rng.uniform() < 1 / (1 + np.exp(3.2 - 1.3 * z))))
    version = model_train_register(
        dataset=dataset_from_rows(FEATURE_NAMES, rows, labels), source="benchmark", target="bad", activate=True
    )
    say(f"model v{version.version} active (CV AUC {version.metrics['auc']})")

    partner = Partner.objects.create(code="bench-uw", name="Benchmark partner")
    applicants = []
    for serial in range(args.applications):
        z = float(rng.normal())
        born, data, requested = simulator._applicant(z, today)
        first_17 = f"110101{born:%Y%m%d}{serial % 1000:03d}"
        borrower = borrower_onboard_person(
            partner=partner, name=f"Bench {serial}", national_id=first_17 + ric.calc_check_digit(first_17 + "0"),
            mobile=f"137{serial:08d}", monthly_income=Decimal(data["monthly_income"]), today=today,
        )  # fmt: skip
        applicants.append((borrower, data, requested))
    consent = datetime.combine(today, clock(2, 0), tzinfo=UTC)
    timings, outcomes = [], {}
    for borrower, data, requested in applicants:
        started = time.perf_counter()
        application = application_submit(
            partner=partner, borrower=borrower, data=data, requested_amount=requested, consent_at=consent,
            consent_scope="benchmark",
        )  # fmt: skip
        timings.append((time.perf_counter() - started) * 1000)
        outcomes[application.state] = outcomes.get(application.state, 0) + 1

    pipeline, scorer = pipeline_load(version), scorer_for(version)
    x = np.array([rows[0]])
    sk, fast = [], []
    for _ in range(300):
        started = time.perf_counter()
        pipeline.predict_proba(x)
        sk.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        scorer.pd(x[0])
        fast.append((time.perf_counter() - started) * 1000)
    return {
        "applications": len(timings),
        "outcomes": outcomes,
        "decision_ms": {
            "p50": round(percentile(timings, 0.5), 2),
            "p99": round(percentile(timings, 0.99), 2),
            "mean": round(statistics.mean(timings), 2),
        },
        "single_row_scoring_ms": {
            "sklearn_predict_proba_p50": round(percentile(sk, 0.5), 3),
            "numpy_scorer_p50": round(percentile(fast, 0.5), 4),
        },
    }


def rescore(args) -> dict:
    import _django

    url = args.database_url or RESCORE_URL
    _django.setup(database_url=url, fresh=not args.reuse)
    import close_day_book
    import psycopg

    from lending.models import CreditLine
    from underwriting.limits import limits_reassess
    from underwriting.selectors import rule_settings_get

    book_date = date(2026, 1, 15)
    if not args.reuse:
        with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
            say(f"building {args.lines:,} lines and loans …")
            seconds = close_day_book.build(conn, loans=args.lines, business_date=book_date, say=say)
            say(f"book built in {seconds:.0f} s")
    active = CreditLine.objects.filter(state=CreditLine.State.ACTIVE).count()
    started = time.perf_counter()
    dry = limits_reassess(dry_run=True, chunk_size=args.chunk_size)
    dry_seconds = time.perf_counter() - started
    say(f"dry run: {dry} in {dry_seconds:.1f} s")
    if args.lower_pd is not None:
        # The synthetic book's lines sit at 200,000 (nothing to raise), have no applications (default PD) and
        # little trouble, so the default policy changes nothing; a low lowering threshold makes it write.
        settings = rule_settings_get()
        settings.reassess_lower_pd = Decimal(args.lower_pd)
        settings.save()
    started = time.perf_counter()
    written = limits_reassess(chunk_size=args.chunk_size)
    write_seconds = time.perf_counter() - started
    say(f"writing run: {written} in {write_seconds:.1f} s")
    return {
        "active_lines": active,
        "dry_run": {**dry, "seconds": round(dry_seconds, 1), "lines_per_second": round(dry["scored"] / dry_seconds)},
        "writing_run": {
            **written,
            "seconds": round(write_seconds, 1),
            "lines_per_second": round(written["scored"] / write_seconds),
        },
    }


def holdout(args) -> dict:
    os.environ["DATABASE_URL"] = f"sqlite:///{Path(args.sqlite).resolve()}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import numpy as np
    from sklearn.model_selection import train_test_split

    from core.business_date import business_date_current
    from underwriting.models import ModelVersion
    from underwriting.scoring import BUILTIN_SCORECARD
    from underwriting.selectors import portfolio_dataset
    from underwriting.training import metrics_compute, pipeline_build

    data = portfolio_dataset(today=business_date_current(), window_days=args.window_days)
    X_train, X_test, y_train, y_test = train_test_split(
        data.X, data.y, test_size=0.3, stratify=data.y, random_state=args.seed
    )
    model = pipeline_build(data, seed=args.seed).fit(X_train, y_train)
    active = ModelVersion.objects.filter(is_active=True).first()
    return {
        "matured_applications": int(len(data.y)),
        "bad": int(data.y.sum()),
        "test_rows": int(len(y_test)),
        "test_bad": int(y_test.sum()),
        "model_on_holdout": metrics_compute(y_test, model.predict_proba(X_test)[:, 1]),
        "builtin_scorecard_on_holdout": metrics_compute(y_test, BUILTIN_SCORECARD.pd_batch(np.asarray(X_test))),
        "active_version_cv": {k: active.metrics[k] for k in ("auc", "ks", "gini", "brier", "rows")} if active else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    one = sub.add_parser("decide")
    one.add_argument("--applications", type=int, default=500)
    one.add_argument("--database-url")
    two = sub.add_parser("rescore")
    two.add_argument("--lines", type=int, default=1_000_000)
    two.add_argument("--chunk-size", type=int, default=50_000)
    two.add_argument("--reuse", action="store_true", help="keep the book from a previous run")
    two.add_argument("--lower-pd", help="reassess_lower_pd for the writing run (e.g. 0.015 lowers most lines)")
    two.add_argument("--database-url")
    three = sub.add_parser("holdout")
    three.add_argument("--sqlite", required=True)
    three.add_argument("--window-days", type=int, default=180)
    three.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    say(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    result = {"decide": decide, "rescore": rescore, "holdout": holdout}[args.mode](args)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
