"""Secrets for the embedded default (no configuration, DEBUG on).

A bare `make run` must work without anyone inventing keys, yet the keys must
not live in the repository. They are generated once into `var/` (ignored by
git) and reused, so encrypted data in the local database stays readable.
Production reads every secret from the environment instead (see settings).
"""

import base64
import json
import os
import secrets
from pathlib import Path


def _new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def load_or_create(path: Path) -> dict:
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    values = {
        "SECRET_KEY": "dev-" + secrets.token_urlsafe(48),
        "PII_ENCRYPTION_KEYS": {"local1": _new_key()},
        "PII_ACTIVE_KEY_ID": "local1",
        "PII_HASH_KEY": _new_key(),
    }
    # Written atomically so two processes starting at once never read half a file.
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(values, indent=2))
    os.chmod(temporary, 0o600)
    if path.exists():
        temporary.unlink()
        return json.loads(path.read_text())
    temporary.replace(path)
    return values
