"""export_ledger writes sealed days as JSON Lines; the standalone verifier checks them offline and names tampering."""

import ast
import importlib.util
import json
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from core.business_date import business_date_set
from ledger.chart import CASH, INTEREST_INCOME, INTEREST_RECEIVABLE, PRINCIPAL_RECEIVABLE
from ledger.services import EntryDraft, credit, day_seal, debit, entries_post, entry_reverse, loan_chain

pytestmark = pytest.mark.django_db

VERIFIER = Path(__file__).resolve().parents[2] / "tools" / "verify_ledger_export.py"
DAY_ONE = date(2031, 1, 30)
DAY_TWO = DAY_ONE + timedelta(days=1)
DAY_THREE = DAY_TWO + timedelta(days=1)


def _verifier():
    spec = importlib.util.spec_from_file_location("verify_ledger_export", VERIFIER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _loan_entry(kind: str, loan_id: int, receivable: str, amount: str, other: str) -> EntryDraft:
    return EntryDraft(
        kind=kind,
        chain=loan_chain(loan_id),
        reference=f"{kind}-{loan_id}",
        lines=[debit(receivable, Decimal(amount), loan_id=loan_id), credit(other, Decimal(amount), loan_id=loan_id)],
    )


def _close(day: date) -> None:
    day_seal(business_date=day)
    business_date_set(new_date=day + timedelta(days=1), reason="export test: next day")


@pytest.fixture
def book():
    """Two loans over three sealed days (a reversal on day two, nothing on day three) and an open fourth day."""
    business_date_set(new_date=DAY_ONE, reason="export test set-up")
    entries_post(
        drafts=[
            _loan_entry("disbursement", 1, PRINCIPAL_RECEIVABLE, "1000.00", CASH),
            _loan_entry("disbursement", 2, PRINCIPAL_RECEIVABLE, "2500.00", CASH),
        ],
        business_date=DAY_ONE,
    )
    _close(DAY_ONE)
    _, accrual_2 = entries_post(
        drafts=[
            _loan_entry("accrual", 1, INTEREST_RECEIVABLE, "0.40", INTEREST_INCOME),
            _loan_entry("accrual", 2, INTEREST_RECEIVABLE, "1.00", INTEREST_INCOME),
        ],
        business_date=DAY_TWO,
    )
    entry_reverse(entry_id=accrual_2.pk, business_date=DAY_TWO)
    _close(DAY_TWO)
    _close(DAY_THREE)
    entries_post(
        drafts=[_loan_entry("accrual", 1, INTEREST_RECEIVABLE, "0.40", INTEREST_INCOME)],
        business_date=DAY_THREE + timedelta(days=1),
    )


def _export(tmp_path: Path, date_from: date, date_to: date) -> Path:
    out = tmp_path / "ledger.jsonl"
    call_command("export_ledger", "--from", date_from.isoformat(), "--to", date_to.isoformat(), "--out", str(out))
    return out


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _write(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(record) + "\n" for record in records))


def _problems(path: Path) -> list[str]:
    with path.open() as stream:
        return _verifier().verify(stream).problems


def test_an_export_of_sealed_days_verifies_offline_in_a_separate_process(book, tmp_path):
    out = _export(tmp_path, DAY_ONE, DAY_THREE)

    result = subprocess.run([sys.executable, "-I", str(VERIFIER), str(out)], capture_output=True, text=True)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: 5 entries, 10 lines, 3 seals verified")


def test_the_export_holds_entries_with_lines_hashes_links_and_seals_in_day_order(book, tmp_path):
    records = _records(_export(tmp_path, DAY_ONE, DAY_THREE))

    types = [record["type"] for record in records]
    assert types == ["header", "seal_anchor", *["entry"] * 2, "seal", *["entry"] * 3, "seal", "seal", "trailer"]
    entry = records[2]
    assert set(entry) >= {"chain", "sequence", "previous_hash", "hash", "lines", "created_at"}
    assert entry["lines"][0]["debit"] == "1000.00"
    assert records[-1] == {"type": "trailer", "entries": 5, "lines": 10, "seals": 3}


def test_a_range_starting_mid_book_anchors_each_chain_and_the_seal_chain(book, tmp_path):
    out = _export(tmp_path, DAY_TWO, DAY_THREE)
    anchors = [record for record in _records(out) if record["type"] in {"chain_anchor", "seal_anchor"}]

    assert {(record["type"], record.get("chain")) for record in anchors} == {
        ("chain_anchor", "loan:1"),
        ("chain_anchor", "loan:2"),
        ("seal_anchor", None),
    }
    assert _problems(out) == []


def test_tampering_with_an_amount_is_reported_as_unbalanced_and_a_hash_mismatch(book, tmp_path):
    out = _export(tmp_path, DAY_ONE, DAY_THREE)
    records = _records(out)
    records[2]["lines"][0]["debit"] = "1100.00"
    _write(out, records)

    problems = _problems(out)

    entry = f"entry {records[2]['id']} (loan:1 #1)"
    assert problems == [
        f"line 3: {entry}: debits 1100.00 != credits 1000.00",
        f"line 3: {entry}: stored hash does not match the entry's content",
    ]
    result = subprocess.run([sys.executable, "-I", str(VERIFIER), str(out)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "FAILED: 2 problem(s)" in result.stdout


def test_tampering_with_a_stored_hash_breaks_the_entry_the_next_link_and_the_seal(book, tmp_path):
    out = _export(tmp_path, DAY_ONE, DAY_THREE)
    records = _records(out)
    accrual_2 = next(r for r in records if r["type"] == "entry" and r["kind"] == "accrual" and r["chain"] == "loan:2")
    accrual_2["hash"] = "a" * 64
    _write(out, records)

    problems = " | ".join(_problems(out))

    assert "stored hash does not match" in problems
    assert "previous_hash does not match the previous entry's hash" in problems
    assert f"seal {DAY_TWO.isoformat()}: digest does not match the day's entries" in problems


def test_a_dropped_entry_is_reported_as_a_chain_gap_a_seal_count_and_a_trailer_count(book, tmp_path):
    out = _export(tmp_path, DAY_ONE, DAY_THREE)
    records = _records(out)
    accrual_2 = next(r for r in records if r["type"] == "entry" and r["kind"] == "accrual" and r["chain"] == "loan:2")
    records.remove(accrual_2)
    _write(out, records)

    problems = " | ".join(_problems(out))

    assert "loan:2 #3): expected sequence 2" in problems
    assert f"seal {DAY_TWO.isoformat()}: sealed 3 entries, found 2" in problems
    assert "trailer: 5 entries announced, 4 in the file" in problems


def test_a_truncated_file_is_reported(book, tmp_path):
    out = _export(tmp_path, DAY_ONE, DAY_THREE)
    _write(out, _records(out)[:-3])

    problems = _problems(out)

    assert any("no trailer" in problem for problem in problems)
    assert any(f"business day {DAY_THREE.isoformat()} has no seal" in problem for problem in problems)


def test_an_open_day_cannot_be_exported_and_no_file_is_written(book, tmp_path):
    out = tmp_path / "ledger.jsonl"
    with pytest.raises(CommandError, match="after the last sealed business date 2031-02-01"):
        call_command("export_ledger", "--from", DAY_ONE.isoformat(), "--to", "2031-02-02", "--out", str(out))
    assert not out.exists()


def test_a_range_starting_before_the_first_sealed_day_is_refused(book):
    with pytest.raises(CommandError, match="before the first sealed business date 2031-01-30"):
        call_command("export_ledger", "--from", "2031-01-01", "--to", DAY_TWO.isoformat())


def test_a_reversed_range_is_refused(book):
    with pytest.raises(CommandError, match="--from must not be after --to"):
        call_command("export_ledger", "--from", DAY_TWO.isoformat(), "--to", DAY_ONE.isoformat())


def test_the_verifier_imports_only_the_standard_library():
    tree = ast.parse(VERIFIER.read_text())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }

    assert imported <= sys.stdlib_module_names
