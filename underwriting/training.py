"""Training a PD model and measuring it: pure scikit-learn and numpy, no ORM.

Numeric-only data (the portfolio's application features) gets an
impute → scale → logistic pipeline, which `scoring.scorer_from_pipeline`
turns into the fast numpy scorer. Data with categorical columns (a CSV)
gets a column transformer that also one-hot encodes them; missing values
are imputed (median for numbers, a "missing" category for text).
"""

import csv
import hashlib
import math
from dataclasses import dataclass

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from core.errors import DomainError

MISSING_TEXT = {"", "na", "n/a", "nan", "null", "none"}


@dataclass(frozen=True)
class Dataset:
    columns: tuple[str, ...]
    categorical: tuple[str, ...]
    X: np.ndarray  # float for all-numeric data, object otherwise (NaN / None for missing)
    y: np.ndarray  # 0/1

    def fingerprint(self) -> str:
        """SHA-256 over the columns, values and labels: which data a version was trained on."""
        digest = hashlib.sha256()
        digest.update("\x1f".join(self.columns).encode())
        for row, label in zip(self.X.tolist(), self.y.tolist(), strict=True):
            digest.update(repr((row, label)).encode())
        return digest.hexdigest()


def dataset_from_rows(columns, rows, labels) -> Dataset:
    return Dataset(
        columns=tuple(columns), categorical=(), X=np.asarray(rows, dtype=float), y=np.asarray(labels, dtype=int)
    )


def _parse_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def dataset_from_csv(path, *, target: str) -> Dataset:
    """Read a CSV: a column is numeric when every non-missing value parses as a number, else categorical."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            records = list(reader)
    except OSError as error:
        raise DomainError("csv_unreadable", f"cannot read {path}: {error.strerror}", field="csv") from None
    if target not in header:
        raise DomainError("target_missing", f"column {target!r} is not in the CSV", field="target")
    columns = [c for c in header if c != target]
    if not columns or len(records) < 20:
        raise DomainError("csv_too_small", "needs at least one feature column and 20 rows", field="csv")
    labels = []
    for number, record in enumerate(records, start=2):
        value = (record[target] or "").strip().lower()
        if value not in {"0", "1", "true", "false"}:
            raise DomainError("target_not_binary", f"line {number}: target must be 0/1 or true/false", field="target")
        labels.append(1 if value in {"1", "true"} else 0)

    def missing(text):
        return text is None or text.strip().lower() in MISSING_TEXT

    categorical = tuple(c for c in columns if any(not missing(r[c]) and _parse_number(r[c]) is None for r in records))
    X = np.empty((len(records), len(columns)), dtype=object)
    for i, record in enumerate(records):
        for j, column in enumerate(columns):
            text = record[column]
            if column in categorical:
                X[i, j] = None if missing(text) else text.strip()
            else:
                X[i, j] = np.nan if missing(text) else _parse_number(text)
    if not categorical:
        X = X.astype(float)
    return Dataset(columns=tuple(columns), categorical=categorical, X=X, y=np.asarray(labels, dtype=int))


def pipeline_build(dataset: Dataset, *, seed: int = 0) -> Pipeline:
    model = LogisticRegression(C=1.0, max_iter=1000, random_state=seed)
    if not dataset.categorical:
        return Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler()), ("model", model)])
    numeric = [i for i, c in enumerate(dataset.columns) if c not in dataset.categorical]
    categorical = [i for i, c in enumerate(dataset.columns) if c in dataset.categorical]
    prepare = ColumnTransformer(
        [
            ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric),
            (
                "categorical",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="constant", fill_value="missing", missing_values=None)),
                        ("encode", OneHotEncoder(handle_unknown="ignore", min_frequency=5)),
                    ]
                ),
                categorical,
            ),
        ]
    )
    return Pipeline([("prepare", prepare), ("model", model)])


def ks_statistic(y: np.ndarray, scores: np.ndarray) -> float:
    """Kolmogorov–Smirnov: the largest gap between the score distributions of bads and goods."""
    fpr, tpr, _ = roc_curve(y, scores)
    return float(np.max(tpr - fpr))


def calibration_table(y: np.ndarray, scores: np.ndarray, *, bins: int = 10) -> list[dict]:
    """Predicted against observed default rate by score decile (equal-count bins)."""
    order = np.argsort(scores, kind="stable")
    rows = []
    for number, part in enumerate(np.array_split(order, bins), start=1):
        if len(part) == 0:
            continue
        rows.append(
            {
                "bin": number,
                "count": int(len(part)),
                "pd_min": round(float(scores[part].min()), 6),
                "pd_max": round(float(scores[part].max()), 6),
                "predicted": round(float(scores[part].mean()), 6),
                "observed": round(float(y[part].mean()), 6),
            }
        )
    return rows


def metrics_compute(y: np.ndarray, scores: np.ndarray) -> dict:
    auc = float(roc_auc_score(y, scores))
    return {
        "auc": round(auc, 4),
        "ks": round(ks_statistic(y, scores), 4),
        "gini": round(2 * auc - 1, 4),
        "brier": round(float(brier_score_loss(y, scores)), 6),
        "rows": int(len(y)),
        "bad_rate": round(float(y.mean()), 6),
    }


def score_bins(scores: np.ndarray, *, bins: int = 10) -> dict:
    """Decile edges of the training scores and the share in each: the baseline for the stability index."""
    edges = np.unique(np.quantile(scores, np.linspace(0, 1, bins + 1)[1:-1]))
    shares = np.bincount(np.searchsorted(edges, scores, side="right"), minlength=len(edges) + 1) / len(scores)
    return {"edges": [float(e) for e in edges], "shares": [float(s) for s in shares]}


def psi(baseline: dict, scores: np.ndarray) -> float:
    """Population stability index of `scores` against the training baseline (0.1 watch, 0.25 act)."""
    expected = np.asarray(baseline["shares"], dtype=float)
    actual = np.bincount(
        np.searchsorted(np.asarray(baseline["edges"]), scores, side="right"), minlength=len(expected)
    ) / max(len(scores), 1)
    expected, actual = np.clip(expected, 1e-4, None), np.clip(actual, 1e-4, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


@dataclass(frozen=True)
class TrainResult:
    pipeline: Pipeline
    metrics: dict  # cross-validated, plus the fold AUCs and the calibration table
    baseline: dict  # score bins of the final model on the training data


def model_train(dataset: Dataset, *, folds: int = 5, seed: int = 0) -> TrainResult:
    """Stratified k-fold out-of-fold predictions for the metrics, then a fit on all the data."""
    bads = int(dataset.y.sum())
    if bads < folds or len(dataset.y) - bads < folds:
        raise DomainError(
            "too_few_outcomes",
            f"needs at least {folds} bad and {folds} good outcomes; has {bads} bad of {len(dataset.y)}",
            field="data",
        )
    out_of_fold = np.zeros(len(dataset.y))
    fold_auc = []
    for train, test in StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(dataset.X, dataset.y):
        pipeline = pipeline_build(dataset, seed=seed).fit(dataset.X[train], dataset.y[train])
        out_of_fold[test] = pipeline.predict_proba(dataset.X[test])[:, 1]
        fold_auc.append(round(float(roc_auc_score(dataset.y[test], out_of_fold[test])), 4))
    metrics = metrics_compute(dataset.y, out_of_fold)
    metrics.update(folds=folds, fold_auc=fold_auc, calibration=calibration_table(dataset.y, out_of_fold))
    final = pipeline_build(dataset, seed=seed).fit(dataset.X, dataset.y)
    return TrainResult(pipeline=final, metrics=metrics, baseline=score_bins(final.predict_proba(dataset.X)[:, 1]))
