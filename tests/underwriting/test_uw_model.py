"""Training, the model registry and scoring: sane AUC, loadable versions, tampering refused, CSV data."""

import csv
import json
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from core.errors import DomainError
from underwriting.features import FEATURE_NAMES
from underwriting.models import Application, ModelVersion
from underwriting.registry import (
    model_train_register,
    model_version_activate,
    pipeline_load,
    scorer_active,
    scorer_for,
)
from underwriting.scoring import BUILTIN_SCORECARD
from underwriting.services import application_decision_replay
from underwriting.training import dataset_from_rows, model_train, psi


def synthetic(rows=1500, seed=7):
    """Application features whose default risk follows a latent factor, like the simulator's."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=rows)
    X = np.column_stack(
        [
            np.clip(650 - 60 * latent + rng.normal(0, 40, rows), 350, 950),
            np.zeros(rows),
            9 - 0.3 * latent + rng.normal(0, 0.3, rows),
            np.clip(0.2 + 0.08 * latent + rng.normal(0, 0.05, rows), 0, 5),
            np.clip(0.5 + 0.3 * latent + rng.normal(0, 0.2, rows), 0, 10),
            rng.uniform(-0.5, 0.5, rows),
            np.zeros(rows),
            rng.integers(0, 120, rows),
            rng.poisson(np.exp(0.3 * latent)),
            rng.integers(0, 2, rows),
            np.zeros(rows),
            np.zeros(rows),
        ]
    )
    y = (rng.uniform(size=rows) < 1 / (1 + np.exp(-(-3 + 1.2 * latent)))).astype(int)
    return dataset_from_rows(FEATURE_NAMES, X.tolist(), y.tolist())


@pytest.fixture
def trained(db):
    return model_train_register(dataset=synthetic(), source="synthetic", target="bad")


def test_training_on_synthetic_data_reaches_a_sane_auc(trained):
    metrics = trained.metrics
    assert 0.7 < metrics["auc"] < 0.95
    assert metrics["gini"] == pytest.approx(2 * metrics["auc"] - 1, abs=1e-4)
    assert 0 < metrics["ks"] < 1 and 0 < metrics["brier"] < 0.25
    assert len(metrics["fold_auc"]) == 5 and len(metrics["calibration"]) == 10
    assert sum(row["count"] for row in metrics["calibration"]) == metrics["rows"]


def test_a_version_loads_and_its_fast_scorer_matches_the_pipeline(trained):
    pipeline = pipeline_load(trained)
    scorer = scorer_for(trained)
    X = np.asarray(synthetic(rows=50, seed=3).X)
    np.testing.assert_allclose(scorer.pd_batch(X), pipeline.predict_proba(X)[:, 1], rtol=1e-9)
    assert scorer.pd(X[0]) == pytest.approx(pipeline.predict_proba(X[:1])[0, 1], rel=1e-9)


def test_a_tampered_artifact_is_refused(trained):
    path = Path(trained.artifact_path)
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(DomainError) as caught:
        pipeline_load(trained)
    assert caught.value.code == "artifact_tampered"
    with pytest.raises(DomainError):
        model_version_activate(version_id=trained.pk)
    assert not ModelVersion.objects.filter(is_active=True).exists()


def test_without_an_active_model_the_builtin_scorecard_decides(db):
    assert scorer_active() == (None, BUILTIN_SCORECARD)


def test_an_activated_model_decides_and_the_decision_replays(trained, borrower, good_data, submit):
    model_version_activate(version_id=trained.pk)
    application = Application.objects.get(pk=submit(borrower, good_data).pk)
    assert application.model_version == trained and application.scorer == f"model-v{trained.version}"
    replay = application_decision_replay(application)
    assert (replay.outcome, replay.pd, replay.limit) == (
        application.automated_decision,
        application.pd,
        application.offered_limit,
    )


def test_activating_a_second_version_retires_the_first(trained):
    model_version_activate(version_id=trained.pk)
    second = model_train_register(dataset=synthetic(seed=8), source="synthetic", target="bad", activate=True)
    assert list(ModelVersion.objects.filter(is_active=True)) == [second]
    assert second.version == trained.version + 1


def write_csv(path, rows=400, seed=11):
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["income", "region", "score", "defaulted"])
        for _ in range(rows):
            latent = rng.normal()
            region = rng.choice(["north", "south", "west"]) if rng.uniform() > 0.1 else ""
            score = "" if rng.uniform() < 0.15 else f"{650 - 70 * latent:.0f}"
            bad = int(rng.uniform() < 1 / (1 + np.exp(-(-2 + 1.5 * latent + (0.8 if region == "west" else 0)))))
            writer.writerow([f"{8000 - 1500 * latent:.2f}", region, score, bad])


def test_csv_training_handles_categorical_and_missing_values(db, tmp_path):
    path = tmp_path / "book.csv"
    write_csv(path)
    out = StringIO()
    call_command("train_model", "--csv", str(path), "--target", "defaulted", "--json", stdout=out, stderr=StringIO())
    result = json.loads(out.getvalue())
    assert result["categorical"] == ["region"] and result["features"] == ["income", "region", "score"]
    assert result["auc"] > 0.65
    version = ModelVersion.objects.get(version=result["version"])
    assert pipeline_load(version).predict_proba(np.array([[9000.0, None, np.nan]], dtype=object)).shape == (1, 2)


def test_a_csv_model_on_other_features_cannot_decide_applications(db, tmp_path):
    path = tmp_path / "book.csv"
    write_csv(path)
    out = StringIO()
    call_command("train_model", "--csv", str(path), "--target", "defaulted", "--json", stdout=out, stderr=StringIO())
    version = ModelVersion.objects.get(version=json.loads(out.getvalue())["version"])
    with pytest.raises(DomainError) as caught:
        model_version_activate(version_id=version.pk)
    assert caught.value.code == "model_features_mismatch"


def test_a_csv_without_the_target_column_is_refused(db, tmp_path):
    path = tmp_path / "book.csv"
    write_csv(path)
    with pytest.raises(Exception, match="defaults"):
        call_command("train_model", "--csv", str(path), "--target", "defaults", stdout=StringIO(), stderr=StringIO())


def test_too_few_bad_outcomes_are_refused():
    data = synthetic(rows=40)
    with pytest.raises(DomainError) as caught:
        model_train(dataset_from_rows(FEATURE_NAMES, data.X.tolist(), [0] * 39 + [1]))
    assert caught.value.code == "too_few_outcomes"


def test_population_stability_is_zero_on_the_baseline_and_grows_with_drift(trained):
    scores = scorer_for(trained).pd_batch(np.asarray(synthetic().X))
    assert psi(trained.baseline, scores) < 0.01
    assert psi(trained.baseline, np.clip(scores * 3, 0, 1)) > 0.25
