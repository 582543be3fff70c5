"""Walk the ledger and say whether it still holds.

Checks every chain (sequence without gaps, each entry pointing at the
previous entry's hash, each stored hash equal to the hash of the entry's
content and lines, every entry balanced), the chain heads, and the day seals
(each digest recomputed from its day's entries and chained to the previous
seal). Apps above the ledger add their own reconciliations with
`register_check` (lending checks its cached loan balances against it).
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby

from core.money import ZERO
from ledger.hashing import HashedLine, entry_hash, seal_digest
from ledger.models import GENESIS_HASH, Account, ChainHead, DaySeal, JournalEntry, JournalLine

BATCH = 5000


@dataclass(frozen=True)
class Problem:
    check: str
    where: str
    detail: str

    def __str__(self):
        return f"{self.check}: {self.where}: {self.detail}"


Check = Callable[[], Iterable[Problem]]
_checks: dict[str, Check] = {}


def register_check(name: str, check: Check) -> None:
    _checks[name] = check


ENTRY_FIELDS = (
    "id",
    "chain",
    "sequence",
    "previous_hash",
    "hash",
    "business_date",
    "kind",
    "description",
    "reference",
    "reverses_id",
    "created_at",
)


def _entries_with_lines() -> Iterator[tuple[dict, list[HashedLine]]]:
    codes = dict(Account.objects.values_list("id", "code"))
    rows = JournalEntry.objects.order_by("chain", "sequence").values(*ENTRY_FIELDS).iterator(chunk_size=BATCH)
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield from _attach_lines(batch, codes)
            batch = []
    if batch:
        yield from _attach_lines(batch, codes)


def _attach_lines(batch: list[dict], codes: dict[int, str]) -> Iterator[tuple[dict, list[HashedLine]]]:
    lines: dict[int, list[HashedLine]] = {row["id"]: [] for row in batch}
    for entry_id, account_id, loan_id, line_debit, line_credit in JournalLine.objects.filter(
        entry_id__in=lines.keys()
    ).values_list("entry_id", "account_id", "loan_id", "debit", "credit"):
        lines[entry_id].append(HashedLine(codes[account_id], loan_id, line_debit, line_credit))
    for row in batch:
        yield row, lines[row["id"]]


def _entry_problems(row: dict, lines: list[HashedLine]) -> Iterator[Problem]:
    where = f"entry {row['id']} ({row['chain']} #{row['sequence']})"
    if len(lines) < 2:
        yield Problem("entry_lines", where, f"has {len(lines)} line(s)")
    debits = sum((line.debit for line in lines), ZERO)
    credits = sum((line.credit for line in lines), ZERO)
    if debits != credits:
        yield Problem("entry_balance", where, f"debits {debits} != credits {credits}")
    recomputed = entry_hash(
        chain=row["chain"],
        sequence=row["sequence"],
        previous_hash=row["previous_hash"],
        business_date=row["business_date"],
        kind=row["kind"],
        description=row["description"],
        reference=row["reference"],
        reverses_id=row["reverses_id"],
        created_at=row["created_at"],
        lines=lines,
    )
    if recomputed != row["hash"]:
        yield Problem("entry_hash", where, "stored hash does not match the entry's content")


def chain_problems() -> Iterator[Problem]:
    heads = dict(ChainHead.objects.values_list("chain", "sequence"))
    head_hashes = dict(ChainHead.objects.values_list("chain", "hash"))
    for chain, items in groupby(_entries_with_lines(), key=lambda pair: pair[0]["chain"]):
        expected_sequence, expected_previous = 1, GENESIS_HASH
        for row, lines in items:
            where = f"entry {row['id']} ({chain} #{row['sequence']})"
            if row["sequence"] != expected_sequence:
                yield Problem("chain_sequence", where, f"expected sequence {expected_sequence}")
            if row["previous_hash"] != expected_previous:
                yield Problem("chain_link", where, "previous_hash does not match the previous entry's hash")
            yield from _entry_problems(row, lines)
            expected_sequence, expected_previous = row["sequence"] + 1, row["hash"]
        if heads.pop(chain, None) != expected_sequence - 1 or head_hashes.get(chain) != expected_previous:
            yield Problem("chain_head", chain, "chain head does not point at the chain's last entry")
    for chain, sequence in heads.items():
        if sequence != 0 or head_hashes[chain] != GENESIS_HASH:
            yield Problem("chain_head", chain, "chain head for a chain with no entries")


def seal_problems() -> Iterator[Problem]:
    previous_digest = GENESIS_HASH
    for seal in DaySeal.objects.order_by("business_date"):
        where = f"seal {seal.business_date.isoformat()}"
        if seal.previous_digest != previous_digest:
            yield Problem("seal_link", where, "previous_digest does not match the previous seal")
        hashes = list(
            JournalEntry.objects.filter(business_date=seal.business_date).order_by("id").values_list("hash", flat=True)
        )
        if len(hashes) != seal.entry_count:
            yield Problem("seal_count", where, f"sealed {seal.entry_count} entries, found {len(hashes)}")
        recomputed = seal_digest(
            previous_digest=seal.previous_digest, business_date=seal.business_date, entry_hashes=hashes
        )
        if recomputed != seal.digest:
            yield Problem("seal_digest", where, "digest does not match the day's entries")
        previous_digest = seal.digest


def ledger_problems() -> Iterator[Problem]:
    yield from chain_problems()
    yield from seal_problems()
    for check in _checks.values():
        yield from check()
