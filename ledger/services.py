"""Posting to the ledger: the only way journal entries are written.

Callers describe entries as drafts; `entries_post` validates them (two or
more one-sided lines, fen-exact positive amounts, known accounts, debits
equal credits), refuses a business date that is already sealed, links each
entry to the head of its chain and inserts them in bulk. Callers that post
for a loan hold the loan's row lock, which is what serialises its chain; the
chain-head row lock covers everything else.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.bulk import rows_insert, rows_update
from core.business_date import business_date_for_write
from core.errors import DomainError
from core.money import ZERO, as_decimal, is_fen_exact
from core.validation import MAX_AMOUNT
from ledger.hashing import HashedLine, entry_hash, seal_digest
from ledger.models import GENESIS_HASH, Account, ChainHead, DaySeal, JournalEntry, JournalLine

GENERAL_CHAIN = "general"
ENTRY_FIELDS = [
    "business_date", "kind", "description", "reference", "reverses_id", "chain", "sequence", "previous_hash", "hash",
    "created_at",
]  # fmt: skip
LINE_FIELDS = ["entry_id", "account_id", "loan_id", "debit", "credit"]


def loan_chain(loan_id: int) -> str:
    return f"loan:{loan_id}"


@dataclass(frozen=True, slots=True)
class LineDraft:
    account: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    loan_id: int | None = None


@dataclass(frozen=True)
class EntryDraft:
    kind: str
    chain: str
    lines: Sequence[LineDraft]
    description: str = ""
    reference: str = ""
    reverses_id: int | None = field(default=None)


def debit(account: str, amount: Decimal, *, loan_id: int | None = None) -> LineDraft:
    return LineDraft(account=account, debit=amount, loan_id=loan_id)


def credit(account: str, amount: Decimal, *, loan_id: int | None = None) -> LineDraft:
    return LineDraft(account=account, credit=amount, loan_id=loan_id)


def _validate(draft: EntryDraft) -> None:
    if len(draft.lines) < 2:
        raise DomainError("entry_too_few_lines", f"{draft.kind}: an entry needs at least two lines")
    total_debit = total_credit = ZERO
    for line in draft.lines:
        amount_debit, amount_credit = as_decimal(line.debit), as_decimal(line.credit)
        if amount_debit < 0 or amount_credit < 0:
            raise DomainError("line_negative", f"{draft.kind}: line amounts must not be negative")
        if (amount_debit > 0) == (amount_credit > 0):
            raise DomainError("line_not_one_sided", f"{draft.kind}: each line is either a debit or a credit, not zero")
        if not (is_fen_exact(amount_debit) and is_fen_exact(amount_credit)):
            raise DomainError("line_not_fen_exact", f"{draft.kind}: amounts are rounded to the fen first")
        if max(amount_debit, amount_credit) > MAX_AMOUNT:
            raise DomainError("line_too_large", f"{draft.kind}: a line may not exceed {MAX_AMOUNT}")
        total_debit += amount_debit
        total_credit += amount_credit
    if total_debit != total_credit:
        raise DomainError("entry_unbalanced", f"{draft.kind}: debits {total_debit} do not equal credits {total_credit}")


def _refuse_date_not_open(business_date: date) -> None:
    """Entries land only on the open business date: never on a sealed day, a skipped one, or a future one."""
    open_date = business_date_for_write()
    if business_date != open_date:
        raise DomainError(
            "business_date_not_open",
            f"entries are posted on the open business date {open_date}, not {business_date}",
            field="business_date",
        )


def _chain_heads_lock(chains: list[str]) -> dict[str, tuple[int, str]]:
    """Lock the heads of `chains` (in order), creating empty heads for new chains first.

    Creating the missing heads with INSERT … ON CONFLICT DO NOTHING before
    locking means two first postings to a new chain queue on its head row
    instead of racing to sequence 1.
    """
    locked = (
        ChainHead.objects.select_for_update()
        .filter(chain__in=chains)
        .order_by("chain")
        .values_list("chain", "sequence", "hash")
    )
    heads = {chain: (sequence, hashed) for chain, sequence, hashed in locked}
    missing = [chain for chain in chains if chain not in heads]
    if missing:
        ChainHead.objects.bulk_create(
            [ChainHead(chain=chain, sequence=0, hash=GENESIS_HASH) for chain in missing],
            ignore_conflicts=True,
        )
        heads = {chain: (sequence, hashed) for chain, sequence, hashed in locked.all()}
    return heads


@transaction.atomic
def entries_post(*, drafts: Sequence[EntryDraft], business_date: date) -> list[JournalEntry]:
    """Post several entries at once (one INSERT for entries, one for lines, one UPDATE of the chain heads)."""
    if not drafts:
        return []
    for draft in drafts:
        _validate(draft)
    codes = {line.account for draft in drafts for line in draft.lines}
    account_ids = dict(Account.objects.filter(code__in=codes).values_list("code", "id"))
    unknown = codes - account_ids.keys()
    if unknown:
        raise DomainError("unknown_account", f"unknown ledger accounts: {', '.join(sorted(unknown))}")

    _refuse_date_not_open(business_date)

    chains = sorted({draft.chain for draft in drafts})
    heads = _chain_heads_lock(chains)
    created_at = timezone.now()
    entries = []
    for draft in drafts:
        last_sequence, last_hash = heads[draft.chain]
        sequence = last_sequence + 1
        hashed = entry_hash(
            chain=draft.chain,
            sequence=sequence,
            previous_hash=last_hash,
            business_date=business_date,
            kind=draft.kind,
            description=draft.description,
            reference=draft.reference,
            reverses_id=draft.reverses_id,
            created_at=created_at,
            lines=[
                HashedLine(line.account, line.loan_id, as_decimal(line.debit), as_decimal(line.credit))
                for line in draft.lines
            ],
        )
        entries.append(
            JournalEntry(
                business_date=business_date,
                kind=draft.kind,
                description=draft.description,
                reference=draft.reference,
                reverses_id=draft.reverses_id,
                chain=draft.chain,
                sequence=sequence,
                previous_hash=last_hash,
                hash=hashed,
                created_at=created_at,
            )
        )
        heads[draft.chain] = (sequence, hashed)

    ids = rows_insert(
        JournalEntry,
        ENTRY_FIELDS,
        [tuple(getattr(entry, name) for name in ENTRY_FIELDS) for entry in entries],
    )
    for entry, entry_id in zip(entries, ids, strict=True):
        entry.pk = entry_id
        entry._state.adding = False
    # All lines go in one INSERT: the PostgreSQL balance trigger checks each
    # statement's entries, so an entry's lines must never be split across two.
    rows_insert(
        JournalLine,
        LINE_FIELDS,
        [
            (entry_id, account_ids[line.account], line.loan_id, as_decimal(line.debit), as_decimal(line.credit))
            for entry_id, draft in zip(ids, drafts, strict=True)
            for line in draft.lines
        ],
    )
    # Every head exists by now (_chain_heads_lock created the missing ones), so this is a plain update.
    rows_update(
        ChainHead,
        [ChainHead(chain=chain, sequence=heads[chain][0], hash=heads[chain][1]) for chain in chains],
        ["sequence", "hash"],
    )
    return entries


def entry_post(*, draft: EntryDraft, business_date: date) -> JournalEntry:
    return entries_post(drafts=[draft], business_date=business_date)[0]


@transaction.atomic
def entry_reverse(*, entry_id: int, business_date: date, reference: str = "", description: str = "") -> JournalEntry:
    """Post the mirror image of an entry on its own chain; an entry is reversed at most once."""
    original = JournalEntry.objects.get(pk=entry_id)
    if original.reverses_id is not None:
        raise DomainError("reversal_of_reversal", f"entry {entry_id} is itself a reversal")
    if JournalEntry.objects.filter(reverses_id=entry_id).exists():
        raise DomainError("already_reversed", f"entry {entry_id} has already been reversed")
    lines = [
        LineDraft(account=code, debit=line_credit, credit=line_debit, loan_id=loan_id)
        for code, loan_id, line_debit, line_credit in original.lines.values_list(
            "account__code", "loan_id", "debit", "credit"
        )
    ]
    return entry_post(
        draft=EntryDraft(
            kind=f"{original.kind}_reversal",
            chain=original.chain,
            lines=lines,
            description=description or f"reversal of entry {entry_id}",
            reference=reference or original.reference,
            reverses_id=entry_id,
        ),
        business_date=business_date,
    )


def day_seal(*, business_date: date) -> DaySeal:
    """Seal the day's entries, chained to the previous seal. Sealing a day twice returns the seal."""
    existing = DaySeal.objects.filter(business_date=business_date).first()
    if existing:
        return existing
    if DaySeal.objects.filter(business_date__gt=business_date).exists():
        raise DomainError("later_day_sealed", f"a day after {business_date.isoformat()} is already sealed")
    previous = DaySeal.objects.filter(business_date__lt=business_date).order_by("-business_date").first()
    previous_digest = previous.digest if previous else GENESIS_HASH
    hashes = list(
        JournalEntry.objects.filter(business_date=business_date).order_by("id").values_list("hash", flat=True)
    )
    return DaySeal.objects.create(
        business_date=business_date,
        entry_count=len(hashes),
        previous_digest=previous_digest,
        digest=seal_digest(previous_digest=previous_digest, business_date=business_date, entry_hashes=hashes),
        sealed_at=timezone.now(),
    )
