#!/usr/bin/env python3
"""Verify a ledger export offline: hashes, chain continuity, balanced entries and day seals.

Standalone on purpose: Python 3.11+ standard library only, no Django, no
database, so an auditor can run it on their own machine against a file made by
`manage.py export_ledger --from D1 --to D2 --out FILE`:

    python3 verify_ledger_export.py FILE

Exit status 0 when everything holds, 1 when a problem was found (each one is
printed with the line of the file it concerns), 2 when the file cannot be read.

What it recomputes, mirroring ledger/hashing.py in the project:

- each entry's hash: SHA-256 over canonical JSON (sorted keys, no spaces,
  amounts as two-decimal strings, created_at in UTC with microseconds, lines
  as sorted [account, loan id or -1, debit, credit]);
- each chain's links: sequences without gaps, every previous_hash equal to the
  previous entry's hash (the first exported entry of a chain links to its
  "chain_anchor" record, or to the genesis hash at sequence 1);
- each entry's balance: debits equal credits, two or more lines, one side per line;
- each day's seal: SHA-256 of "previous_digest|date" then "|hash" for each of
  the day's entries in id order, chained to the previous seal (the first to the
  "seal_anchor" record), with the sealed entry count; every day of the range sealed;
- the trailer's counts, so a truncated file is noticed.

The anchors are the export's links to what came before it: compare them with
the previous export's last entries and seal to check two exports join up.
"""

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

FORMAT = "lending-ledger-export/1"
GENESIS_HASH = "0" * 64
FEN = Decimal("0.01")


def canonical_amount(value: str) -> str:
    return str(Decimal(value).quantize(FEN))


def entry_hash(entry: dict) -> str:
    lines = sorted(
        [
            line["account"],
            line["loan_id"] if line["loan_id"] is not None else -1,
            canonical_amount(line["debit"]),
            canonical_amount(line["credit"]),
        ]
        for line in entry["lines"]
    )
    content = {
        "chain": entry["chain"],
        "sequence": entry["sequence"],
        "previous_hash": entry["previous_hash"],
        "business_date": entry["business_date"],
        "kind": entry["kind"],
        "description": entry["description"],
        "reference": entry["reference"],
        "reverses": entry["reverses"],
        "created_at": entry["created_at"],
        "lines": lines,
    }
    rendered = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(rendered.encode()).hexdigest()


def seal_digest(previous_digest: str, business_date: str, entry_hashes: list[str]) -> str:
    digest = hashlib.sha256()
    digest.update(f"{previous_digest}|{business_date}".encode())
    for value in entry_hashes:
        digest.update(b"|")
        digest.update(value.encode())
    return digest.hexdigest()


@dataclass
class Verifier:
    problems: list[str] = field(default_factory=list)
    header: dict | None = None
    anchors: dict[str, tuple[int, str]] = field(default_factory=dict)
    chains: dict[str, tuple[int, str]] = field(default_factory=dict)
    seal_anchor: str | None = None
    previous_digest: str | None = None
    sealed_dates: set[str] = field(default_factory=set)
    day: str | None = None
    day_hashes: list[str] = field(default_factory=list)
    last_id: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {"entries": 0, "lines": 0, "seals": 0})
    trailer: dict | None = None

    def problem(self, number: int, text: str) -> None:
        self.problems.append(f"line {number}: {text}")

    def feed(self, number: int, record: dict) -> None:
        kind = record.get("type")
        if self.header is None and kind != "header":
            self.problem(number, "the file does not start with a header record")
            self.header = {}
        if self.trailer is not None:
            self.problem(number, "record after the trailer")
        handler = getattr(self, f"on_{kind}", None) if isinstance(kind, str) else None
        if handler is None:
            self.problem(number, f"unknown record type {kind!r}")
            return
        try:
            handler(number, record)
        except (KeyError, TypeError, ValueError, InvalidOperation) as error:
            self.problem(number, f"malformed {kind} record ({type(error).__name__}: {error})")

    def on_header(self, number: int, record: dict) -> None:
        if self.header is not None:
            self.problem(number, "a second header")
            return
        if record["format"] != FORMAT:
            self.problem(number, f"format {record['format']!r} is not {FORMAT!r}")
        date.fromisoformat(record["from"])
        date.fromisoformat(record["to"])
        self.header = record

    def on_chain_anchor(self, number: int, record: dict) -> None:
        self.anchors[record["chain"]] = (int(record["sequence"]), record["hash"])

    def on_seal_anchor(self, number: int, record: dict) -> None:
        self.seal_anchor = self.previous_digest = record["digest"]

    def on_entry(self, number: int, record: dict) -> None:
        where = f"entry {record['id']} ({record['chain']} #{record['sequence']})"
        self.counts["entries"] += 1
        self.counts["lines"] += len(record["lines"])
        self._order(number, record, where)
        self._balance(number, record, where)
        if entry_hash(record) != record["hash"]:
            self.problem(number, f"{where}: stored hash does not match the entry's content")
        self._link(number, record, where)
        self.day_hashes.append(record["hash"])

    def _order(self, number: int, record: dict, where: str) -> None:
        business_date = record["business_date"]
        date.fromisoformat(business_date)
        if self.day is not None and business_date < self.day:
            self.problem(number, f"{where}: out of date order ({business_date} after {self.day})")
        if business_date in self.sealed_dates:
            self.problem(number, f"{where}: dated {business_date}, after that day's seal")
        if business_date != self.day:
            self.day, self.day_hashes, self.last_id = business_date, [], 0
        if record["id"] <= self.last_id:
            self.problem(number, f"{where}: ids within a day must increase (seals hash in id order)")
        self.last_id = record["id"]

    def _balance(self, number: int, record: dict, where: str) -> None:
        lines = record["lines"]
        if len(lines) < 2:
            self.problem(number, f"{where}: has {len(lines)} line(s)")
        debits = credits = Decimal(0)
        for line in lines:
            debit, credit = Decimal(line["debit"]), Decimal(line["credit"])
            if not ((debit > 0 and credit == 0) or (debit == 0 and credit > 0)):
                self.problem(number, f"{where}: a line must have exactly one positive side ({debit} / {credit})")
            debits, credits = debits + debit, credits + credit
        if debits != credits:
            self.problem(number, f"{where}: debits {debits} != credits {credits}")

    def _link(self, number: int, record: dict, where: str) -> None:
        chain, sequence = record["chain"], int(record["sequence"])
        if chain in self.chains:
            expected_sequence, expected_previous = self.chains[chain][0] + 1, self.chains[chain][1]
        elif chain in self.anchors:
            expected_sequence, expected_previous = self.anchors[chain][0] + 1, self.anchors[chain][1]
        else:
            expected_sequence, expected_previous = 1, GENESIS_HASH
        if sequence != expected_sequence:
            self.problem(number, f"{where}: expected sequence {expected_sequence} (an entry is missing or extra)")
        if record["previous_hash"] != expected_previous:
            self.problem(number, f"{where}: previous_hash does not match the previous entry's hash")
        self.chains[chain] = (sequence, record["hash"])

    def on_seal(self, number: int, record: dict) -> None:
        business_date = record["business_date"]
        where = f"seal {business_date}"
        self.counts["seals"] += 1
        hashes = self.day_hashes if business_date == self.day else []
        if self.day is not None and business_date < self.day:
            self.problem(number, f"{where}: comes after entries of a later day {self.day}")
        if record["previous_digest"] != self.previous_digest:
            self.problem(number, f"{where}: previous_digest does not match the previous seal")
        if len(hashes) != record["entry_count"]:
            self.problem(number, f"{where}: sealed {record['entry_count']} entries, found {len(hashes)}")
        if seal_digest(record["previous_digest"], business_date, hashes) != record["digest"]:
            self.problem(number, f"{where}: digest does not match the day's entries")
        self.sealed_dates.add(business_date)
        self.previous_digest = record["digest"]

    def on_trailer(self, number: int, record: dict) -> None:
        self.trailer = record
        for key, value in self.counts.items():
            if record[key] != value:
                self.problem(number, f"trailer: {record[key]} {key} announced, {value} in the file")

    def finish(self, number: int) -> None:
        if self.header is None:
            self.problem(number, "empty file")
            return
        if self.trailer is None:
            self.problem(number, "no trailer: the file is truncated")
        if self.seal_anchor is None:
            self.problem(number, "no seal_anchor record")
        if not self.header.get("from") or not self.header.get("to"):
            return
        day, last = date.fromisoformat(self.header["from"]), date.fromisoformat(self.header["to"])
        while day <= last:
            if day.isoformat() not in self.sealed_dates:
                self.problem(number, f"business day {day.isoformat()} has no seal in the export")
            day += timedelta(days=1)


def verify(lines) -> Verifier:
    verifier = Verifier()
    number = 0
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            verifier.problem(number, f"not JSON ({error.msg})")
            continue
        if not isinstance(record, dict):
            verifier.problem(number, "not a JSON object")
            continue
        verifier.feed(number, record)
    verifier.finish(number)
    return verifier


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", help="a JSON Lines file written by manage.py export_ledger")
    parser.add_argument("--max-problems", type=int, default=50, help="print at most this many problems")
    args = parser.parse_args(argv)
    try:
        with open(args.file, encoding="utf-8") as stream:
            verifier = verify(stream)
    except (OSError, UnicodeDecodeError) as error:
        print(f"cannot read {args.file}: {error}", file=sys.stderr)
        return 2
    summary = (
        f"{verifier.counts['entries']} entries, {verifier.counts['lines']} lines, {verifier.counts['seals']} seals"
    )
    if not verifier.problems:
        print(f"OK: {summary} verified (hashes, chains, balances, seals)")
        return 0
    for text in verifier.problems[: args.max_problems]:
        print(text)
    print(f"FAILED: {len(verifier.problems)} problem(s) in {summary}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
