"""Canonical content and hashes of entries and day seals (pure functions).

A hash is SHA-256 over a canonical JSON rendering: keys sorted, amounts as
fixed two-decimal strings, times in UTC, lines sorted, so the same entry
always hashes the same on any database.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from core.money import FEN


@dataclass(frozen=True, slots=True)
class HashedLine:
    account: str
    loan_id: int | None
    debit: Decimal
    credit: Decimal


def _amount(value: Decimal) -> str:
    return str(value.quantize(FEN))


def entry_hash(
    *,
    chain: str,
    sequence: int,
    previous_hash: str,
    business_date: date,
    kind: str,
    description: str,
    reference: str,
    reverses_id: int | None,
    created_at: datetime,
    lines: Iterable[HashedLine],
) -> str:
    canonical_lines = sorted(
        [
            line.account,
            line.loan_id if line.loan_id is not None else -1,
            _amount(line.debit),
            _amount(line.credit),
        ]
        for line in lines
    )
    content = {
        "chain": chain,
        "sequence": sequence,
        "previous_hash": previous_hash,
        "business_date": business_date.isoformat(),
        "kind": kind,
        "description": description,
        "reference": reference,
        "reverses": reverses_id,
        "created_at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "lines": canonical_lines,
    }
    rendered = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(rendered.encode()).hexdigest()


def seal_digest(*, previous_digest: str, business_date: date, entry_hashes: Iterable[str]) -> str:
    digest = hashlib.sha256()
    digest.update(f"{previous_digest}|{business_date.isoformat()}".encode())
    for value in entry_hashes:
        digest.update(b"|")
        digest.update(value.encode())
    return digest.hexdigest()
