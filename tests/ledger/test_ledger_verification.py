"""Tamper evidence: verify_ledger passes a clean book and names what was edited behind its back.

The edits go straight to the database. On PostgreSQL they first switch off the
append-only trigger, as an attacker with DBA rights would (inside the test's
transaction, which rolls back).
"""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from core.business_date import business_date_set
from ledger.chart import CASH, INTEREST_INCOME, INTEREST_RECEIVABLE, PRINCIPAL_RECEIVABLE
from ledger.models import ChainHead, DaySeal, JournalEntry, JournalLine
from ledger.services import (
    GENERAL_CHAIN,
    EntryDraft,
    credit,
    day_seal,
    debit,
    entries_post,
    entry_reverse,
    loan_chain,
)
from ledger.verification import Problem, ledger_problems

pytestmark = pytest.mark.django_db

DAY_ONE = date(2031, 1, 30)
DAY_TWO = DAY_ONE + timedelta(days=1)

APPEND_ONLY_TRIGGERS = {
    "ledger_journalentry": "journalentry_append_only",
    "ledger_journalline": "journalline_append_only",
    "ledger_dayseal": "dayseal_append_only",
}


def _execute(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def tamper(table: str, sql: str, params=()) -> None:
    """Run a raw UPDATE or DELETE on a ledger table, getting past PostgreSQL's guard first."""
    if connection.vendor != "postgresql":
        _execute(sql, params)
        return
    trigger = APPEND_ONLY_TRIGGERS[table]
    # ALTER TABLE refuses while deferred foreign-key checks are pending in the transaction.
    _execute("SET CONSTRAINTS ALL IMMEDIATE")
    _execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
    try:
        _execute(sql, params)
    finally:
        _execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
        _execute("SET CONSTRAINTS ALL DEFERRED")


def _loan_entry(kind: str, loan_id: int, receivable: str, amount: str, other: str) -> EntryDraft:
    return EntryDraft(
        kind=kind,
        chain=loan_chain(loan_id),
        reference=f"{kind}-{loan_id}",
        lines=[
            debit(receivable, Decimal(amount), loan_id=loan_id),
            credit(other, Decimal(amount), loan_id=loan_id),
        ],
    )


def seal_and_open_next_day(day: date) -> None:
    """What a close does at the end of a day: seal it and open the next."""
    day_seal(business_date=day)
    business_date_set(new_date=day + timedelta(days=1), reason="verification test: next day")


@pytest.fixture
def book() -> dict[str, JournalEntry]:
    """Two loans and the general chain over two sealed days, with a reversal, and an open third day."""
    loan_1, loan_2, general = entries_post(
        drafts=[
            _loan_entry("disbursement", 1, PRINCIPAL_RECEIVABLE, "1000.00", CASH),
            _loan_entry("disbursement", 2, PRINCIPAL_RECEIVABLE, "2500.00", CASH),
            EntryDraft(
                kind="transfer",
                chain=GENERAL_CHAIN,
                lines=[debit(CASH, Decimal("9.99")), credit("suspense", Decimal("9.99"))],
            ),
        ],
        business_date=DAY_ONE,
    )
    seal_and_open_next_day(DAY_ONE)
    accrual_1, accrual_2 = entries_post(
        drafts=[
            _loan_entry("accrual", 1, INTEREST_RECEIVABLE, "0.40", INTEREST_INCOME),
            _loan_entry("accrual", 2, INTEREST_RECEIVABLE, "1.00", INTEREST_INCOME),
        ],
        business_date=DAY_TWO,
    )
    reversal = entry_reverse(entry_id=accrual_2.pk, business_date=DAY_TWO)
    seal_and_open_next_day(DAY_TWO)
    unsealed = entries_post(
        drafts=[_loan_entry("accrual", 1, INTEREST_RECEIVABLE, "0.40", INTEREST_INCOME)],
        business_date=DAY_TWO + timedelta(days=1),
    )[0]
    return {
        "loan_1": loan_1,
        "loan_2": loan_2,
        "general": general,
        "accrual_1": accrual_1,
        "accrual_2": accrual_2,
        "reversal": reversal,
        "unsealed": unsealed,
    }


def _where(entry: JournalEntry) -> str:
    return f"entry {entry.pk} ({entry.chain} #{entry.sequence})"


def _problems() -> list[Problem]:
    return list(ledger_problems())


def _checks_at(problems: list[Problem]) -> set[tuple[str, str]]:
    return {(problem.check, problem.where) for problem in problems}


def test_a_clean_ledger_with_several_chains_and_sealed_days_verifies(book):
    assert DaySeal.objects.count() == 2
    assert ChainHead.objects.count() == 3
    assert _problems() == []


def test_an_empty_ledger_verifies():
    assert _problems() == []


def test_editing_a_line_amount_in_the_database_is_detected_and_the_entry_named(book):
    line = JournalLine.objects.filter(entry=book["accrual_1"]).order_by("id").first()

    tamper(
        "ledger_journalline",
        "UPDATE ledger_journalline SET debit = %s WHERE id = %s",
        [Decimal("4.00"), line.pk],
    )

    assert _checks_at(_problems()) == {
        ("entry_balance", _where(book["accrual_1"])),
        ("entry_hash", _where(book["accrual_1"])),
    }


def test_editing_both_lines_of_an_entry_so_it_still_balances_is_detected_by_its_hash(book):
    tamper(
        "ledger_journalline",
        "UPDATE ledger_journalline SET debit = debit * 10, credit = credit * 10 WHERE entry_id = %s",
        [book["loan_2"].pk],
    )

    assert _checks_at(_problems()) == {("entry_hash", _where(book["loan_2"]))}


def test_moving_a_line_to_another_loan_is_detected(book):
    tamper(
        "ledger_journalline",
        "UPDATE ledger_journalline SET loan_id = 99 WHERE entry_id = %s AND loan_id = 1",
        [book["loan_1"].pk],
    )

    assert _checks_at(_problems()) == {("entry_hash", _where(book["loan_1"]))}


def test_editing_an_entrys_stored_hash_is_detected_and_breaks_the_next_link_and_the_seal(book):
    forged = "a" * 64

    tamper(
        "ledger_journalentry",
        "UPDATE ledger_journalentry SET hash = %s WHERE id = %s",
        [forged, book["accrual_2"].pk],
    )

    assert _checks_at(_problems()) == {
        ("entry_hash", _where(book["accrual_2"])),
        ("chain_link", _where(book["reversal"])),
        ("seal_digest", f"seal {DAY_TWO.isoformat()}"),
    }


def test_editing_an_entrys_content_is_detected(book):
    tamper(
        "ledger_journalentry",
        "UPDATE ledger_journalentry SET description = 'nothing to see' WHERE id = %s",
        [book["general"].pk],
    )

    assert _checks_at(_problems()) == {("entry_hash", _where(book["general"]))}


def test_editing_a_seal_digest_is_detected_and_breaks_the_next_seals_link(book):
    tamper(
        "ledger_dayseal",
        "UPDATE ledger_dayseal SET digest = %s WHERE business_date = %s",
        ["b" * 64, DAY_ONE],
    )

    assert _checks_at(_problems()) == {
        ("seal_digest", f"seal {DAY_ONE.isoformat()}"),
        ("seal_link", f"seal {DAY_TWO.isoformat()}"),
    }


def test_deleting_an_entry_with_its_lines_leaves_a_gap_in_its_chain_and_a_short_seal(book):
    victim = book["accrual_1"]

    tamper("ledger_journalline", "DELETE FROM ledger_journalline WHERE entry_id = %s", [victim.pk])
    tamper("ledger_journalentry", "DELETE FROM ledger_journalentry WHERE id = %s", [victim.pk])

    problems = _checks_at(_problems())
    assert ("chain_sequence", _where(book["unsealed"])) in problems
    assert ("chain_link", _where(book["unsealed"])) in problems
    assert ("seal_count", f"seal {DAY_TWO.isoformat()}") in problems
    assert ("seal_digest", f"seal {DAY_TWO.isoformat()}") in problems


def test_deleting_the_last_entry_of_a_chain_leaves_its_chain_head_pointing_past_the_end(book):
    victim = book["unsealed"]

    tamper("ledger_journalline", "DELETE FROM ledger_journalline WHERE entry_id = %s", [victim.pk])
    tamper("ledger_journalentry", "DELETE FROM ledger_journalentry WHERE id = %s", [victim.pk])

    assert _checks_at(_problems()) == {("chain_head", "loan:1")}


def test_deleting_one_line_of_an_entry_is_detected(book):
    line = JournalLine.objects.filter(entry=book["general"]).order_by("id").last()

    tamper("ledger_journalline", "DELETE FROM ledger_journalline WHERE id = %s", [line.pk])

    assert _checks_at(_problems()) == {
        ("entry_lines", _where(book["general"])),
        ("entry_balance", _where(book["general"])),
        ("entry_hash", _where(book["general"])),
    }


def test_a_chain_head_that_does_not_point_at_the_last_entry_is_detected(book):
    ChainHead.objects.filter(chain="loan:2").update(sequence=1, hash=book["loan_2"].hash)

    assert _checks_at(_problems()) == {("chain_head", "loan:2")}


# --- the verify_ledger command ----------------------------------------------------


def test_verify_ledger_command_passes_a_clean_book(book, capsys):
    call_command("verify_ledger")

    assert "Ledger verified" in capsys.readouterr().out


def test_verify_ledger_command_fails_naming_the_first_broken_entry(book, capsys):
    line = JournalLine.objects.filter(entry=book["loan_2"]).order_by("id").first()
    tamper("ledger_journalline", "UPDATE ledger_journalline SET debit = debit + 1 WHERE id = %s", [line.pk])

    with pytest.raises(CommandError) as failed:
        call_command("verify_ledger")

    message = str(failed.value)
    assert message.startswith("ledger verification failed: first problem: ")
    assert _where(book["loan_2"]) in message
    assert "(2 in all)" in message
    out = capsys.readouterr().out
    assert f"entry_hash: {_where(book['loan_2'])}: stored hash does not match" in out


def test_verify_ledger_command_json_output_parses_on_a_clean_book(book, capsys):
    call_command("verify_ledger", "--json")

    assert json.loads(capsys.readouterr().out) == {"ok": True, "problems": []}


def test_verify_ledger_command_json_output_lists_the_problems_before_it_fails(book, capsys):
    tamper(
        "ledger_dayseal",
        "UPDATE ledger_dayseal SET digest = %s WHERE business_date = %s",
        ["c" * 64, DAY_TWO],
    )

    with pytest.raises(CommandError, match=f"seal {DAY_TWO.isoformat()}"):
        call_command("verify_ledger", "--json")

    result = json.loads(capsys.readouterr().out)
    assert result == {
        "ok": False,
        "problems": [
            {
                "check": "seal_digest",
                "where": f"seal {DAY_TWO.isoformat()}",
                "detail": "digest does not match the day's entries",
            }
        ],
    }
