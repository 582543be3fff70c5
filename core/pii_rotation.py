"""Re-encrypt every stored PII token under the active key, so an old key can be removed.

Encrypted columns are found by convention: a text field whose name ends in
`_encrypted` (core sits below the apps and imports none of them). The rotation
walks each model by primary key in chunks; each chunk is one transaction that
locks its rows, decrypts every token made under another key and encrypts it
again under `PII_ACTIVE_KEY_ID`. A row already under the active key is not
selected, so an interrupted rotation is resumed by running it again.

The keyed look-up hashes (`PII_HASH_KEY`) are not touched: they do not depend
on the encryption keys, so search and duplicate checks keep working during and
after a rotation (see the README's Security section for why the hash key is
not rotated here).
"""

from dataclasses import dataclass

from django.apps import apps
from django.db import models, transaction
from django.db.models import Q

from core import pii
from core.errors import DomainError
from core.progress import Progress, SilentProgress

ENCRYPTED_SUFFIX = "_encrypted"
DEFAULT_CHUNK = 500


@dataclass(frozen=True)
class EncryptedColumns:
    model: type[models.Model]
    fields: tuple[str, ...]

    @property
    def label(self) -> str:
        return self.model._meta.label

    def stale(self, active_key_id: str) -> Q:
        """Rows with at least one token made under a key other than the active one."""
        condition = Q()
        for name in self.fields:
            condition |= Q(**{f"{name}__gt": ""}) & ~Q(**{f"{name}__startswith": f"{active_key_id}:"})
        return condition


def encrypted_columns() -> list[EncryptedColumns]:
    found = []
    for model in apps.get_models():
        names = tuple(
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, models.TextField | models.CharField) and field.name.endswith(ENCRYPTED_SUFFIX)
        )
        if names:
            found.append(EncryptedColumns(model=model, fields=names))
    return sorted(found, key=lambda columns: columns.label)


def pii_tokens_stale_count() -> dict[str, int]:
    active = pii.active_key_id()
    return {
        columns.label: columns.model.objects.filter(columns.stale(active)).count() for columns in encrypted_columns()
    }


def pii_key_rotate(*, chunk_size: int = DEFAULT_CHUNK, progress: Progress | None = None) -> dict[str, int]:
    """Re-encrypt stale tokens under the active key; returns the rows rewritten per model."""
    if chunk_size < 1:
        raise DomainError("chunk_size_invalid", "must be at least 1", field="chunk_size")
    progress = progress or SilentProgress()
    active = pii.active_key_id()
    rewritten = {}
    for columns in encrypted_columns():
        rewritten[columns.label] = _rotate_model(columns, active, chunk_size, progress)
    return rewritten


def _rotate_model(columns: EncryptedColumns, active: str, chunk_size: int, progress: Progress) -> int:
    stale = columns.model.objects.filter(columns.stale(active))
    total_chunks = -(-stale.count() // chunk_size)
    done = rewritten = 0
    last_pk = None
    while True:
        page = stale.order_by("pk")
        if last_pk is not None:
            page = page.filter(pk__gt=last_pk)
        ids = list(page.values_list("pk", flat=True)[:chunk_size])
        if not ids:
            break
        rewritten += _rotate_chunk(columns, active, ids)
        last_pk = ids[-1]
        done += 1
        progress.chunk_done(columns.label, done, max(total_chunks, done))
    return rewritten


@transaction.atomic
def _rotate_chunk(columns: EncryptedColumns, active: str, ids: list[int]) -> int:
    rows = list(columns.model.objects.select_for_update().filter(pk__in=ids).order_by("pk").only("pk", *columns.fields))
    changed = []
    for row in rows:
        dirty = False
        for name in columns.fields:
            token = getattr(row, name)
            if not token or not pii.needs_reencryption(token):
                continue
            try:
                plaintext = pii.decrypt(token)
            except pii.PiiDecryptionError as error:
                raise DomainError("pii_token_unreadable", f"{columns.label} {row.pk}: {error}", field=name) from None
            setattr(row, name, pii.encrypt(plaintext))
            dirty = True
        if dirty:
            changed.append(row)
    # The encrypted columns are excluded from audit history by design (no ciphertext in history
    # tables), so a bulk update loses nothing there.
    columns.model.objects.bulk_update(changed, list(columns.fields))
    return len(changed)
