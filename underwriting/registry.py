"""Model versions: saving an artifact with its hash, loading it only when the hash matches, the live scorer.

Artifacts are joblib files (a pickle underneath), so they are never loaded
unverified: the bytes are read once, their SHA-256 compared with the one
recorded when the version was trained, and only then unpickled from
memory. A tampered or swapped file is refused. The scorer of a version is
cached per process by (id, hash), so a decision reads one row and does no
file access.
"""

import hashlib
import io
from pathlib import Path

import joblib
from django.conf import settings
from django.db import transaction

from core.errors import DomainError
from underwriting.features import FEATURE_NAMES
from underwriting.models import ModelVersion
from underwriting.scoring import BUILTIN_SCORECARD, LinearScorer, scorer_from_pipeline
from underwriting.training import Dataset, TrainResult, model_train

_scorers: dict[tuple[int, str], LinearScorer] = {}


def model_dir() -> Path:
    return Path(getattr(settings, "UNDERWRITING_MODEL_DIR", settings.BASE_DIR / "var" / "models"))


@transaction.atomic
def model_version_create(*, result: TrainResult, dataset: Dataset, source: str, target: str) -> ModelVersion:
    buffer = io.BytesIO()
    joblib.dump(result.pipeline, buffer)
    payload = buffer.getvalue()
    sha256 = hashlib.sha256(payload).hexdigest()
    last = ModelVersion.objects.select_for_update().order_by("-version").first()
    number = (last.version if last else 0) + 1
    directory = model_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"pd-model-v{number}-{sha256[:12]}.joblib"
    path.write_bytes(payload)
    return ModelVersion.objects.create(
        version=number,
        source=source[:200],
        target=target[:100],
        feature_names=list(dataset.columns),
        categorical=list(dataset.categorical),
        metrics=result.metrics,
        baseline=result.baseline,
        data_fingerprint=dataset.fingerprint(),
        artifact_path=str(path),
        artifact_sha256=sha256,
    )


def pipeline_load(version: ModelVersion):
    """The fitted pipeline, after checking the artifact's bytes against the recorded hash."""
    try:
        payload = Path(version.artifact_path).read_bytes()
    except OSError:
        raise DomainError(
            "artifact_missing", f"the artifact of v{version.version} cannot be read", field="model"
        ) from None
    if hashlib.sha256(payload).hexdigest() != version.artifact_sha256:
        raise DomainError(
            "artifact_tampered", f"the artifact of v{version.version} does not match its recorded hash", field="model"
        )
    return joblib.load(io.BytesIO(payload))


def _scorer_load(version: ModelVersion) -> LinearScorer:
    scorer = scorer_from_pipeline(
        pipeline_load(version), name=f"model-v{version.version}", feature_names=tuple(version.feature_names)
    )
    if scorer is None:
        raise DomainError("model_not_linear", "only numeric impute-scale-logistic models can score", field="model")
    _scorers[(version.pk, version.artifact_sha256)] = scorer
    return scorer


def scorer_for(version: ModelVersion) -> LinearScorer:
    return _scorers.get((version.pk, version.artifact_sha256)) or _scorer_load(version)


def scorer_active() -> tuple[ModelVersion | None, LinearScorer]:
    """The live model and its scorer; the built-in scorecard while no model is active."""
    version = ModelVersion.objects.filter(is_active=True).first()
    if version is None:
        return None, BUILTIN_SCORECARD
    return version, scorer_for(version)


@transaction.atomic
def model_version_activate(*, version_id: int) -> ModelVersion:
    """Make a version the live model; it must score the application features and load intact."""
    version = ModelVersion.objects.select_for_update().get(pk=version_id)
    if tuple(version.feature_names) != FEATURE_NAMES or version.categorical:
        raise DomainError(
            "model_features_mismatch",
            "only a model trained on the application features can decide applications",
            field="model",
        )
    # Verify the file as it is now, whatever this process cached earlier.
    _scorer_load(version)
    for previous in ModelVersion.objects.select_for_update().filter(is_active=True).exclude(pk=version.pk):
        previous.is_active = False
        previous.save(update_fields=["is_active"])
    version.is_active = True
    version.save(update_fields=["is_active"])
    return version


@transaction.atomic
def model_version_deactivate(*, version_id: int) -> ModelVersion:
    """Back to the built-in scorecard."""
    version = ModelVersion.objects.select_for_update().get(pk=version_id)
    version.is_active = False
    version.save(update_fields=["is_active"])
    return version


def model_train_register(
    *, dataset: Dataset, source: str, target: str, folds: int = 5, seed: int = 0, activate: bool = False
) -> ModelVersion:
    """Cross-validate, fit, store the artifact and the version; optionally make it live."""
    result = model_train(dataset, folds=folds, seed=seed)
    version = model_version_create(result=result, dataset=dataset, source=source, target=target)
    if activate:
        version = model_version_activate(version_id=version.pk)
    return version
