"""Posting to the ledger: balanced entries only, hash-chained, append-only, reversed not edited."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from core.business_date import business_date_set
from core.errors import DomainError
from core.money import MoneyTypeError
from ledger.chart import CASH, INTEREST_INCOME, INTEREST_RECEIVABLE, PRINCIPAL_RECEIVABLE, SUSPENSE
from ledger.hashing import HashedLine, entry_hash
from ledger.models import (
    GENESIS_HASH,
    Account,
    AppendOnlyError,
    ChainHead,
    DaySeal,
    JournalEntry,
    JournalLine,
)
from ledger.selectors import account_balances, trial_balance_difference
from ledger.services import (
    GENERAL_CHAIN,
    EntryDraft,
    LineDraft,
    credit,
    day_seal,
    debit,
    entries_post,
    entry_post,
    entry_reverse,
    loan_chain,
)

pytestmark = pytest.mark.django_db

DAY = date(2031, 1, 30)  # the open date set by tests/ledger/conftest.py


def open_next_day() -> date:
    """Move the open date one day on, as a close would (without sealing)."""
    return business_date_set(new_date=DAY + timedelta(days=1), reason="ledger test: next day")


def disbursement(loan_id: int, amount: str = "1000.00", *, reference: str = "") -> EntryDraft:
    return EntryDraft(
        kind="disbursement",
        chain=loan_chain(loan_id),
        reference=reference or f"loan-{loan_id}",
        lines=[
            debit(PRINCIPAL_RECEIVABLE, Decimal(amount), loan_id=loan_id),
            credit(CASH, Decimal(amount)),
        ],
    )


def _recomputed_hash(entry: JournalEntry) -> str:
    return entry_hash(
        chain=entry.chain,
        sequence=entry.sequence,
        previous_hash=entry.previous_hash,
        business_date=entry.business_date,
        kind=entry.kind,
        description=entry.description,
        reference=entry.reference,
        reverses_id=entry.reverses_id,
        created_at=entry.created_at,
        lines=[HashedLine(line.account.code, line.loan_id, line.debit, line.credit) for line in entry.lines.all()],
    )


def _nothing_written() -> bool:
    return not (JournalEntry.objects.exists() or JournalLine.objects.exists() or ChainHead.objects.exists())


def _account_id(code: str) -> int:
    return Account.objects.get(code=code).pk


def _raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _bare_entry() -> JournalEntry:
    """An entry row without lines, written around the posting service."""
    return JournalEntry.objects.create(
        business_date=DAY,
        kind="forged",
        chain="forged",
        sequence=1,
        previous_hash=GENESIS_HASH,
        hash="f" * 64,
        created_at=timezone.now(),
    )


def _without_balance_trigger(write) -> None:
    """Run `write` with PostgreSQL's balance trigger off, as someone with DBA rights could."""
    if connection.vendor != "postgresql":
        write()
        return
    # Pending deferred foreign-key checks would make ALTER TABLE refuse.
    _raw("SET CONSTRAINTS ALL IMMEDIATE")
    _raw("ALTER TABLE ledger_journalline DISABLE TRIGGER journalline_balanced")
    try:
        write()
    finally:
        _raw("ALTER TABLE ledger_journalline ENABLE TRIGGER journalline_balanced")
        _raw("SET CONSTRAINTS ALL DEFERRED")


# --- posting ------------------------------------------------------------------------


def test_a_balanced_entry_posts_its_lines_as_the_first_link_of_its_chain():
    posted = entry_post(draft=disbursement(7), business_date=DAY)

    entry = JournalEntry.objects.get()
    assert entry.pk == posted.pk
    assert (entry.chain, entry.sequence, entry.previous_hash) == ("loan:7", 1, GENESIS_HASH)
    assert (entry.business_date, entry.kind, entry.reference) == (DAY, "disbursement", "loan-7")
    assert list(entry.lines.values_list("account__code", "loan_id", "debit", "credit")) == [
        (PRINCIPAL_RECEIVABLE, 7, Decimal("1000.00"), Decimal("0.00")),
        (CASH, None, Decimal("0.00"), Decimal("1000.00")),
    ]
    assert len(entry.hash) == 64
    assert entry.hash == _recomputed_hash(entry)
    head = ChainHead.objects.get(chain="loan:7")
    assert (head.sequence, head.hash) == (1, entry.hash)


def test_the_next_entry_on_a_chain_links_to_the_previous_entrys_hash():
    first = entry_post(draft=disbursement(7), business_date=DAY)
    open_next_day()
    second = entry_post(
        draft=EntryDraft(
            kind="repayment",
            chain=loan_chain(7),
            lines=[
                credit(PRINCIPAL_RECEIVABLE, Decimal("100.00"), loan_id=7),
                debit(CASH, Decimal("100.00")),
            ],
        ),
        business_date=DAY + timedelta(days=1),
    )

    second.refresh_from_db()
    assert (second.sequence, second.previous_hash) == (2, first.hash)
    assert second.hash == _recomputed_hash(second)
    head = ChainHead.objects.get(chain="loan:7")
    assert (head.sequence, head.hash) == (2, second.hash)


def test_chains_are_independent_of_each_other():
    entry_post(draft=disbursement(7), business_date=DAY)
    other = entry_post(draft=disbursement(8), business_date=DAY)

    assert (other.chain, other.sequence, other.previous_hash) == ("loan:8", 1, GENESIS_HASH)


def test_entries_post_posts_several_chains_in_one_call_and_links_entries_within_a_chain():
    general = EntryDraft(
        kind="transfer",
        chain=GENERAL_CHAIN,
        lines=[debit(CASH, Decimal("5.00")), credit("suspense", Decimal("5.00"))],
    )
    entries = entries_post(
        drafts=[disbursement(1), disbursement(2), general, disbursement(1, "50.00", reference="top-up")],
        business_date=DAY,
    )

    assert [(e.chain, e.sequence) for e in entries] == [
        ("loan:1", 1),
        ("loan:2", 1),
        ("general", 1),
        ("loan:1", 2),
    ]
    assert entries[3].previous_hash == entries[0].hash
    assert JournalLine.objects.count() == 8
    for entry in JournalEntry.objects.all():
        assert entry.hash == _recomputed_hash(entry)
    heads = {head.chain: (head.sequence, head.hash) for head in ChainHead.objects.all()}
    assert heads == {
        "loan:1": (2, entries[3].hash),
        "loan:2": (1, entries[1].hash),
        "general": (1, entries[2].hash),
    }


def test_entries_post_with_no_drafts_writes_nothing():
    assert entries_post(drafts=[], business_date=DAY) == []
    assert _nothing_written()


def test_amounts_given_as_int_or_numeric_string_post_and_hash_like_decimals():
    entry = entry_post(
        draft=EntryDraft(kind="transfer", chain=GENERAL_CHAIN, lines=[debit(CASH, 100), credit("suspense", "100.0")]),
        business_date=DAY,
    )

    entry.refresh_from_db()
    assert sorted(entry.lines.values_list("debit", "credit")) == [
        (Decimal("0.00"), Decimal("100.00")),
        (Decimal("100.00"), Decimal("0.00")),
    ]
    assert entry.hash == _recomputed_hash(entry)


@pytest.mark.parametrize(
    "lines, code",
    [
        ([debit(CASH, Decimal("10.00")), credit(INTEREST_INCOME, Decimal("9.99"))], "entry_unbalanced"),
        ([debit(CASH, Decimal("10.00"))], "entry_too_few_lines"),
        ([], "entry_too_few_lines"),
        ([debit(CASH, Decimal("0.00")), credit(INTEREST_INCOME, Decimal("0.00"))], "line_not_one_sided"),
        (
            [
                debit(CASH, Decimal("10.00")),
                credit(INTEREST_INCOME, Decimal("10.00")),
                debit(CASH, Decimal(0)),
            ],
            "line_not_one_sided",
        ),
        ([debit(CASH, Decimal("-10.00")), credit(INTEREST_INCOME, Decimal("-10.00"))], "line_negative"),
        (
            [
                LineDraft(account=CASH, debit=Decimal("10.00"), credit=Decimal("10.00")),
                LineDraft(account=INTEREST_INCOME, debit=Decimal("10.00"), credit=Decimal("10.00")),
            ],
            "line_not_one_sided",
        ),
        ([debit(CASH, Decimal("10.005")), credit(INTEREST_INCOME, Decimal("10.005"))], "line_not_fen_exact"),
        ([debit(CASH, Decimal("10.00")), credit("no_such_account", Decimal("10.00"))], "unknown_account"),
    ],
    ids=[
        "unbalanced",
        "one-line",
        "no-lines",
        "zero-amounts",
        "a-zero-line",
        "negative",
        "both-sides-on-one-line",
        "more-than-two-decimals",
        "unknown-account",
    ],
)
def test_an_invalid_entry_is_refused_with_nothing_written(lines, code):
    with pytest.raises(DomainError) as refused:
        entry_post(draft=EntryDraft(kind="bad", chain=GENERAL_CHAIN, lines=lines), business_date=DAY)

    assert refused.value.code == code
    assert _nothing_written()


def test_one_invalid_draft_refuses_the_whole_batch():
    bad = EntryDraft(
        kind="bad", chain=GENERAL_CHAIN, lines=[debit(CASH, Decimal("1.00")), credit(CASH, Decimal("2.00"))]
    )

    with pytest.raises(DomainError):
        entries_post(drafts=[disbursement(1), bad], business_date=DAY)

    assert _nothing_written()


def test_a_float_amount_is_refused_as_not_money_with_nothing_written():
    draft = EntryDraft(kind="bad", chain=GENERAL_CHAIN, lines=[debit(CASH, 10.0), credit(INTEREST_INCOME, 10.0)])

    with pytest.raises(MoneyTypeError):
        entry_post(draft=draft, business_date=DAY)

    assert _nothing_written()


@pytest.mark.parametrize("offset", [-1, 1], ids=["a-day-before-the-open-date", "a-day-after-it"])
def test_posting_on_a_day_other_than_the_open_business_date_is_refused(offset):
    with pytest.raises(DomainError) as refused:
        entry_post(draft=disbursement(1), business_date=DAY + timedelta(days=offset))

    assert refused.value.code == "business_date_not_open"
    assert refused.value.field == "business_date"
    assert _nothing_written()


def test_posting_on_the_open_day_after_a_sealed_day_is_accepted():
    day_seal(business_date=DAY)
    open_next_day()

    entry = entry_post(draft=disbursement(1), business_date=DAY + timedelta(days=1))

    assert entry.pk is not None


# --- day seals ---------------------------------------------------------------------------


def test_day_seal_covers_the_days_entries_and_chains_to_the_previous_seal():
    entry_post(draft=disbursement(1), business_date=DAY)
    entry_post(draft=disbursement(2), business_date=DAY)
    first = day_seal(business_date=DAY)
    second = day_seal(business_date=DAY + timedelta(days=1))

    assert (first.entry_count, first.previous_digest) == (2, GENESIS_HASH)
    assert (second.entry_count, second.previous_digest) == (0, first.digest)
    assert first.digest != second.digest


def test_sealing_a_day_twice_returns_the_existing_seal():
    first = day_seal(business_date=DAY)

    assert day_seal(business_date=DAY).pk == first.pk
    assert DaySeal.objects.count() == 1


def test_sealing_a_day_before_a_sealed_day_is_refused():
    day_seal(business_date=DAY)

    with pytest.raises(DomainError) as refused:
        day_seal(business_date=DAY - timedelta(days=1))

    assert refused.value.code == "later_day_sealed"


# --- reversals ---------------------------------------------------------------------------


def test_entry_reverse_posts_the_mirror_image_on_the_same_chain_linked_to_the_original():
    original = entry_post(draft=disbursement(3, "250.00"), business_date=DAY)
    open_next_day()

    reversal = entry_reverse(entry_id=original.pk, business_date=DAY + timedelta(days=1))

    reversal.refresh_from_db()
    assert (reversal.reverses_id, reversal.kind) == (original.pk, "disbursement_reversal")
    assert (reversal.chain, reversal.sequence, reversal.previous_hash) == ("loan:3", 2, original.hash)
    assert (reversal.reference, reversal.description) == ("loan-3", f"reversal of entry {original.pk}")
    assert list(reversal.lines.values_list("account__code", "loan_id", "debit", "credit")) == [
        (PRINCIPAL_RECEIVABLE, 3, Decimal("0.00"), Decimal("250.00")),
        (CASH, None, Decimal("250.00"), Decimal("0.00")),
    ]
    assert account_balances(loan_id=3) == {PRINCIPAL_RECEIVABLE: Decimal("0.00")}
    assert set(account_balances().values()) == {Decimal("0.00")}


def test_an_entry_is_reversed_at_most_once():
    original = entry_post(draft=disbursement(3), business_date=DAY)
    entry_reverse(entry_id=original.pk, business_date=DAY)

    with pytest.raises(DomainError) as refused:
        entry_reverse(entry_id=original.pk, business_date=DAY)

    assert refused.value.code == "already_reversed"
    assert JournalEntry.objects.count() == 2


def test_a_reversal_cannot_itself_be_reversed():
    original = entry_post(draft=disbursement(3), business_date=DAY)
    reversal = entry_reverse(entry_id=original.pk, business_date=DAY)

    with pytest.raises(DomainError) as refused:
        entry_reverse(entry_id=reversal.pk, business_date=DAY)

    assert refused.value.code == "reversal_of_reversal"
    assert JournalEntry.objects.count() == 2


# --- append-only in code --------------------------------------------------------------------


@pytest.fixture
def posted_entry() -> JournalEntry:
    return entry_post(draft=disbursement(5), business_date=DAY)


def _existing_rows(posted_entry):
    return {
        "entry": JournalEntry.objects.get(pk=posted_entry.pk),
        "line": JournalLine.objects.filter(entry=posted_entry).first(),
        "seal": day_seal(business_date=DAY),
    }


@pytest.mark.parametrize("kind", ["entry", "line", "seal"])
def test_saving_an_existing_ledger_row_is_refused(posted_entry, kind):
    row = _existing_rows(posted_entry)[kind]

    with pytest.raises(AppendOnlyError):
        row.save()


@pytest.mark.parametrize("kind", ["entry", "line", "seal"])
def test_deleting_a_ledger_row_is_refused(posted_entry, kind):
    row = _existing_rows(posted_entry)[kind]

    with pytest.raises(AppendOnlyError):
        row.delete()

    assert type(row).objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize(
    "model, change",
    [
        (JournalEntry, {"kind": "edited"}),
        (JournalLine, {"debit": Decimal("1.00")}),
        (DaySeal, {"digest": "0" * 64}),
    ],
    ids=["entry", "line", "seal"],
)
def test_queryset_update_delete_and_bulk_update_of_ledger_rows_are_refused(posted_entry, model, change):
    day_seal(business_date=DAY)
    rows = model.objects.all()

    with pytest.raises(AppendOnlyError):
        rows.update(**change)
    with pytest.raises(AppendOnlyError):
        rows.delete()
    with pytest.raises(AppendOnlyError):
        model.objects.bulk_update(list(rows), list(change))

    assert not model.objects.filter(**change).exists()


# --- balances ------------------------------------------------------------------------------


def test_account_balances_are_net_debits_per_account_overall_or_for_one_loan():
    entry_post(draft=disbursement(1, "1000.00"), business_date=DAY)
    entry_post(draft=disbursement(2, "500.00"), business_date=DAY)
    entry_post(
        draft=EntryDraft(
            kind="accrual",
            chain=loan_chain(1),
            lines=[
                debit(INTEREST_RECEIVABLE, Decimal("0.40"), loan_id=1),
                credit(INTEREST_INCOME, Decimal("0.40"), loan_id=1),
            ],
        ),
        business_date=DAY,
    )

    assert account_balances() == {
        PRINCIPAL_RECEIVABLE: Decimal("1500.00"),
        CASH: Decimal("-1500.00"),
        INTEREST_RECEIVABLE: Decimal("0.40"),
        INTEREST_INCOME: Decimal("-0.40"),
    }
    assert account_balances(loan_id=1) == {
        PRINCIPAL_RECEIVABLE: Decimal("1000.00"),
        INTEREST_RECEIVABLE: Decimal("0.40"),
        INTEREST_INCOME: Decimal("-0.40"),
    }
    assert trial_balance_difference() == Decimal("0.00")


def test_trial_balance_difference_is_zero_on_an_empty_ledger():
    assert trial_balance_difference() == Decimal("0.00")


def test_trial_balance_difference_shows_lines_that_do_not_balance():
    entry = _bare_entry()
    _without_balance_trigger(
        lambda: JournalLine.objects.bulk_create(
            [
                JournalLine(entry=entry, account_id=_account_id(CASH), debit=Decimal("3.00")),
                JournalLine(entry=entry, account_id=_account_id(INTEREST_INCOME), credit=Decimal("2.25")),
            ]
        )
    )

    assert trial_balance_difference() == Decimal("0.75")


# --- PostgreSQL: the database itself keeps the ledger append-only and balanced ---------------


@pytest.mark.postgres
@pytest.mark.parametrize(
    "table, assignment",
    [
        ("ledger_journalentry", "kind = 'edited'"),
        ("ledger_journalline", "debit = debit + 1"),
        ("ledger_dayseal", "digest = repeat('0', 64)"),
    ],
)
def test_postgres_refuses_a_raw_update_of_a_ledger_table(posted_entry, table, assignment):
    day_seal(business_date=DAY)

    with pytest.raises(DatabaseError, match="append-only: UPDATE refused"):
        with transaction.atomic():
            _raw(f"UPDATE {table} SET {assignment}")

    assert JournalEntry.objects.get().kind == "disbursement"
    assert trial_balance_difference() == Decimal("0.00")


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["ledger_journalline", "ledger_journalentry", "ledger_dayseal"])
def test_postgres_refuses_a_raw_delete_from_a_ledger_table(posted_entry, table):
    day_seal(business_date=DAY)

    with pytest.raises(DatabaseError, match="append-only: DELETE refused"):
        with transaction.atomic():
            _raw(f"DELETE FROM {table}")

    assert (JournalEntry.objects.count(), JournalLine.objects.count(), DaySeal.objects.count()) == (1, 2, 1)


_INSERT_LINES = "INSERT INTO ledger_journalline (entry_id, account_id, loan_id, debit, credit) VALUES "


@pytest.mark.postgres
def test_postgres_refuses_a_raw_insert_of_unbalanced_lines():
    entry = _bare_entry()

    with pytest.raises(DatabaseError, match="not balanced"):
        with transaction.atomic():
            _raw(
                _INSERT_LINES + "(%s, %s, NULL, 10.00, 0), (%s, %s, NULL, 0, 9.99)",
                [entry.pk, _account_id(CASH), entry.pk, _account_id(INTEREST_INCOME)],
            )

    assert not JournalLine.objects.exists()


@pytest.mark.postgres
def test_postgres_refuses_a_raw_insert_of_a_lone_line():
    entry = _bare_entry()

    with pytest.raises(DatabaseError, match="fewer than two lines"):
        with transaction.atomic():
            _raw(_INSERT_LINES + "(%s, %s, NULL, 10.00, 0)", [entry.pk, _account_id(CASH)])

    assert not JournalLine.objects.exists()


@pytest.mark.postgres
def test_postgres_accepts_a_raw_insert_of_balanced_lines():
    """The control for the two tests above: the trigger refuses imbalance, not every raw insert."""
    entry = _bare_entry()

    _raw(
        _INSERT_LINES + "(%s, %s, NULL, 10.00, 0), (%s, %s, NULL, 0, 10.00)",
        [entry.pk, _account_id(CASH), entry.pk, _account_id(INTEREST_INCOME)],
    )

    assert entry.lines.count() == 2


@pytest.mark.postgres
def test_postgres_refuses_a_raw_insert_of_one_extra_line_into_a_balanced_entry(posted_entry):
    with pytest.raises(DatabaseError, match=f"journal entry {posted_entry.pk} is not balanced"):
        with transaction.atomic():
            _raw(_INSERT_LINES + "(%s, %s, NULL, 5.00, 0)", [posted_entry.pk, _account_id(CASH)])

    assert posted_entry.lines.count() == 2


def test_a_line_above_the_largest_storable_amount_is_refused_with_nothing_written():
    huge = Decimal("10000000000000000.00")
    draft = EntryDraft(kind="huge", chain=loan_chain(1), lines=[debit(CASH, huge), credit(SUSPENSE, huge)])

    with pytest.raises(DomainError) as refused:
        entry_post(draft=draft, business_date=DAY)

    assert refused.value.code == "line_too_large"
    assert _nothing_written()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_first_postings_to_a_new_chain_at_once_both_land_one_after_the_other():
    business_date_set(new_date=DAY, reason="concurrency test")
    barrier = threading.Barrier(2)
    errors = []

    def post(amount: str) -> None:
        try:
            barrier.wait()
            entry_post(
                draft=EntryDraft(
                    kind="transfer",
                    chain="insurer:9",
                    lines=[debit(CASH, Decimal(amount)), credit(SUSPENSE, Decimal(amount))],
                ),
                business_date=DAY,
            )
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(amount,)) for amount in ("1.00", "2.00")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    entries = list(JournalEntry.objects.filter(chain="insurer:9").order_by("sequence"))
    assert [entry.sequence for entry in entries] == [1, 2]
    assert entries[1].previous_hash == entries[0].hash
    assert ChainHead.objects.get(chain="insurer:9").sequence == 2
