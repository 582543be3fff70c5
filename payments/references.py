"""Our idempotency references at gateways: unique per instruction, safe to log."""

import uuid


def reference_new(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:24].upper()}"
