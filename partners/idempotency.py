"""Idempotency keys of the partner API: one effect per (partner, key), the response stored and replayed.

A POST that creates something or moves money first claims its key: a new
key is recorded `in_flight` (committed at once, so a second request with the
key sees it); the request then runs, and its response is stored in the same
transaction as its effect. The same key again replays the stored response;
with a different request (method, path or body) it is refused (422); while
the first is still running, 409. Keys expire after `KEY_TTL`. A claim left
`in_flight` longer than `IN_FLIGHT_LEASE` (its process died) may be taken
over: drawdowns and repayments carry the key down to their services, which
return what the first attempt created, so even then there is one effect.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from core.errors import DomainError
from lending.models import Partner
from partners.models import IdempotencyRecord

KEY_TTL = timedelta(hours=24)
IN_FLIGHT_LEASE = timedelta(minutes=2)
KEY_HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: dict


def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    """SHA-256 over method, path and body; a JSON body counts by content (key order and spacing ignored)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _claim_commits_without_waiting_for_disk() -> None:
    """A claim only matters while its request runs, and a database crash ends that request too, so its
    commit need not wait for the disk (one fsync less per write; the stored response commits normally)."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def idempotency_claim(*, partner: Partner, key: str, fingerprint: str, now: datetime) -> IdempotencyRecord | Replay:
    """Claim `key` for this request, or return the stored response to replay; refuse a conflicting use."""
    try:
        with transaction.atomic():
            _claim_commits_without_waiting_for_disk()
            return IdempotencyRecord.objects.create(
                partner=partner, key=key, fingerprint=fingerprint, created_at=now, expires_at=now + KEY_TTL
            )
    except IntegrityError:
        pass
    with transaction.atomic():
        record = IdempotencyRecord.objects.select_for_update().filter(partner=partner, key=key).first()
        if record is None:
            # Released by a request that failed validation between our insert and this read.
            return IdempotencyRecord.objects.create(
                partner=partner, key=key, fingerprint=fingerprint, created_at=now, expires_at=now + KEY_TTL
            )
        stale = record.state == IdempotencyRecord.State.IN_FLIGHT and record.created_at <= now - IN_FLIGHT_LEASE
        if record.expires_at <= now or stale:
            record.fingerprint, record.state = fingerprint, IdempotencyRecord.State.IN_FLIGHT
            record.status_code, record.response_body = None, None
            record.created_at, record.expires_at = now, now + KEY_TTL
            record.save()
            return record
        if record.fingerprint != fingerprint:
            raise DomainError("idempotency_key_reused", "this key was used for a different request", field=KEY_HEADER)
        if record.state == IdempotencyRecord.State.IN_FLIGHT:
            raise DomainError(
                "idempotency_key_in_flight", "a request with this key is still being processed", field=KEY_HEADER
            )
        return Replay(status_code=record.status_code, body=record.response_body)


def idempotency_complete(*, record: IdempotencyRecord, status_code: int, body: dict) -> None:
    """Store the response; called inside the transaction of the request's effect, so both commit or neither."""
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.State.COMPLETED, status_code=status_code, response_body=body
    )


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Forget a claim whose request was refused before it reached a service, so the key can be used again."""
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.IN_FLIGHT).delete()


def idempotency_purge(*, now: datetime) -> int:
    return IdempotencyRecord.objects.filter(expires_at__lte=now).delete()[0]
