"""The ledger as JSON Lines for auditors: sealed days' entries with their lines, hashes, chain links and seals.

One JSON object per line, each with a "type":

- "header": the format, the range, and the hashing rules (so the file explains itself);
- "chain_anchor": for a chain whose first exported entry is not its first entry, the
  sequence and hash of the entry just before the range, so continuity can be checked;
- "seal_anchor": the digest of the last seal before the range (genesis when none);
- "entry": an entry with its lines, in (business date, id) order, the order seals hash in;
- "seal": a day's seal, after that day's entries;
- "trailer": record counts, so a truncated file is noticed.

Only sealed days are exported: an open day's entries can still change the day's
digest, so an auditor could not check them against anything. The standalone
tools/verify_ledger_export.py checks a file without Django or a database.
"""

import json
from collections.abc import Iterator
from datetime import UTC, date

from django.db.models import Max, Min, Q
from django.utils import timezone

from core.errors import DomainError
from core.money import FEN
from ledger.models import GENESIS_HASH, Account, DaySeal, JournalEntry, JournalLine
from ledger.verification import ENTRY_FIELDS

FORMAT = "lending-ledger-export/1"
BATCH = 5000
# Chains looked up per query for their anchors: a bounded OR of (chain, sequence) pairs.
ANCHOR_BATCH = 500


def export_range_check(*, date_from: date, date_to: date) -> None:
    if date_from > date_to:
        raise DomainError("range_reversed", "--from must not be after --to", field="from")
    sealed = DaySeal.objects.aggregate(first=Min("business_date"), last=Max("business_date"))
    first_sealed, last_sealed = sealed["first"], sealed["last"]
    if last_sealed is None:
        raise DomainError("nothing_sealed", "no business day is sealed yet: close a day first", field="to")
    if date_from < first_sealed:
        raise DomainError(
            "before_first_day",
            f"must not be before the first sealed business date {first_sealed.isoformat()}",
            field="from",
        )
    if date_to > last_sealed:
        raise DomainError(
            "day_not_sealed",
            f"must not be after the last sealed business date {last_sealed.isoformat()}: "
            "only sealed days can be verified",
            field="to",
        )


def ledger_export_records(*, date_from: date, date_to: date) -> Iterator[dict]:
    """Yield the export's records in file order; raise DomainError for a range that cannot be exported."""
    export_range_check(date_from=date_from, date_to=date_to)
    entries = JournalEntry.objects.filter(business_date__range=(date_from, date_to))
    seals = DaySeal.objects.filter(business_date__range=(date_from, date_to)).order_by("business_date")
    yield {
        "type": "header",
        "format": FORMAT,
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "exported_at": timezone.now().astimezone(UTC).isoformat(),
        "genesis_hash": GENESIS_HASH,
        "hashing": "see ledger/hashing.py: sha256 over canonical JSON of each entry; seals chain day digests",
    }
    yield from _chain_anchors(entries)
    previous_seal = DaySeal.objects.filter(business_date__lt=date_from).order_by("-business_date").first()
    yield {
        "type": "seal_anchor",
        "business_date": previous_seal.business_date.isoformat() if previous_seal else None,
        "digest": previous_seal.digest if previous_seal else GENESIS_HASH,
    }
    counts = {"entries": 0, "lines": 0, "seals": 0}
    seal_iter = iter(seals)
    pending_seal = next(seal_iter, None)
    for record in _entry_records(entries):
        # A seal follows its day's entries, so a reader can check each day as it streams.
        while pending_seal and pending_seal.business_date.isoformat() < record["business_date"]:
            yield _seal_record(pending_seal)
            counts["seals"] += 1
            pending_seal = next(seal_iter, None)
        counts["entries"] += 1
        counts["lines"] += len(record["lines"])
        yield record
    while pending_seal:
        yield _seal_record(pending_seal)
        counts["seals"] += 1
        pending_seal = next(seal_iter, None)
    yield {"type": "trailer", **counts}


def _chain_anchors(entries) -> Iterator[dict]:
    firsts = entries.values("chain").annotate(first=Min("sequence")).filter(first__gt=1).order_by("chain")
    batch: list[tuple[str, int]] = []
    for row in firsts.iterator(chunk_size=BATCH):
        batch.append((row["chain"], row["first"] - 1))
        if len(batch) == ANCHOR_BATCH:
            yield from _anchors(batch)
            batch = []
    if batch:
        yield from _anchors(batch)


def _anchors(pairs: list[tuple[str, int]]) -> Iterator[dict]:
    wanted = Q()
    for chain, sequence in pairs:
        wanted |= Q(chain=chain, sequence=sequence)
    hashes = {
        (chain, sequence): hash_
        for chain, sequence, hash_ in JournalEntry.objects.filter(wanted).values_list("chain", "sequence", "hash")
    }
    for chain, sequence in pairs:
        yield {"type": "chain_anchor", "chain": chain, "sequence": sequence, "hash": hashes.get((chain, sequence))}


def _entry_records(entries) -> Iterator[dict]:
    codes = dict(Account.objects.values_list("id", "code"))
    rows = entries.order_by("business_date", "id").values(*ENTRY_FIELDS).iterator(chunk_size=BATCH)
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield from _with_lines(batch, codes)
            batch = []
    if batch:
        yield from _with_lines(batch, codes)


def _with_lines(batch: list[dict], codes: dict[int, str]) -> Iterator[dict]:
    lines: dict[int, list[dict]] = {row["id"]: [] for row in batch}
    for entry_id, account_id, loan_id, line_debit, line_credit in (
        JournalLine.objects.filter(entry_id__in=lines.keys())
        .order_by("id")
        .values_list("entry_id", "account_id", "loan_id", "debit", "credit")
    ):
        lines[entry_id].append(
            {
                "account": codes[account_id],
                "loan_id": loan_id,
                "debit": _canonical(line_debit),
                "credit": _canonical(line_credit),
            }
        )
    for row in batch:
        yield {
            "type": "entry",
            "id": row["id"],
            "chain": row["chain"],
            "sequence": row["sequence"],
            "previous_hash": row["previous_hash"],
            "hash": row["hash"],
            "business_date": row["business_date"].isoformat(),
            "kind": row["kind"],
            "description": row["description"],
            "reference": row["reference"],
            "reverses": row["reverses_id"],
            "created_at": row["created_at"].astimezone(UTC).isoformat(timespec="microseconds"),
            "lines": lines[row["id"]],
        }


def _canonical(amount) -> str:
    """The amount as ledger/hashing.py renders it: a fixed two-decimal string."""
    return str(amount.quantize(FEN))


def _seal_record(seal: DaySeal) -> dict:
    return {
        "type": "seal",
        "business_date": seal.business_date.isoformat(),
        "entry_count": seal.entry_count,
        "previous_digest": seal.previous_digest,
        "digest": seal.digest,
        "sealed_at": seal.sealed_at.astimezone(UTC).isoformat(),
    }


def record_dumps(record: dict) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
