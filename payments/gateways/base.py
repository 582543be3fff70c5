"""The gateway interface: what a payment provider adapter implements, and the records it exchanges.

A real provider is one new module with a `Gateway` subclass and one entry in
`PAYMENTS_GATEWAYS`. Amounts cross this boundary as Decimal, dates as dates;
adapters translate to and from their provider's wire format.
"""

import csv
import hashlib
import hmac
import io
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings

from core.money import is_fen_exact

CONFIRMED = "confirmed"
FAILED = "failed"
ACCEPTED = "accepted"
SIGNATURE_HEADER = "X-Gateway-Signature"


class CallbackRefused(Exception):
    """A callback we will not apply: bad signature, malformed body. `code` is stable, `reason` readable."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


@dataclass(frozen=True)
class AccountDetails:
    kind: str
    bank: str
    number: str
    holder_name: str


@dataclass(frozen=True)
class Instruction:
    """Move `amount` out to (disbursement) or in from (debit) `account`; `reference` is our idempotency key."""

    reference: str
    kind: str  # "disbursement" | "debit"
    amount: Decimal
    account: AccountDetails | None
    attempt: int


@dataclass(frozen=True)
class Outcome:
    """A gateway's synchronous answer: accepted (the result comes later), confirmed or failed."""

    status: str
    gateway_reference: str = ""
    value_date: date | None = None
    reason: str = ""


@dataclass(frozen=True)
class Report:
    """What a callback (or a partner's report) says happened to one instruction."""

    reference: str
    status: str  # CONFIRMED | FAILED
    amount: Decimal
    gateway_reference: str = ""
    value_date: date | None = None
    reason: str = ""


@dataclass(frozen=True)
class SettlementLine:
    reference: str
    amount: Decimal
    gateway_reference: str = ""


class Gateway(ABC):
    # True when the adapter answers in-process (no network): it may then be called inside the caller's
    # transaction, so a drawdown and its confirmation commit together.
    in_process = False

    def __init__(self, *, code: str):
        self.code = code

    @abstractmethod
    def instruct_disbursement(self, instruction: Instruction) -> Outcome: ...

    @abstractmethod
    def instruct_debit(self, instruction: Instruction) -> Outcome: ...

    @abstractmethod
    def parse_callback(self, *, body: bytes, headers) -> Report:
        """Verify and decode a callback; raise CallbackRefused when it cannot be trusted or read."""

    def fetch_settlement_file(self, *, on_date: date) -> list[SettlementLine]:
        """The provider's settlement lines for `on_date`; by default the CSV dropped in the settlement folder."""
        path = Path(settings.PAYMENTS_SETTLEMENT_DIR) / self.code / f"{on_date.isoformat()}.csv"
        if not path.exists():
            raise FileNotFoundError(f"no settlement file {path}")
        return settlement_csv_parse(path.read_text(encoding="utf-8"))


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_check(secret: str, body: bytes, headers) -> None:
    given = headers.get(SIGNATURE_HEADER, "")
    if not given or not hmac.compare_digest(given, signature(secret, body)):
        raise CallbackRefused("bad_signature", "the signature does not match the body")


MAX_REFERENCE = 40
MAX_GATEWAY_REFERENCE = 100
MAX_AMOUNT = Decimal("1000000000")


def report_from_mapping(data) -> Report:
    """A Report from decoded JSON, every field checked; CallbackRefused('malformed', …) names the first fault."""
    if not isinstance(data, dict):
        raise CallbackRefused("malformed", "the body must be a JSON object")
    reference = data.get("reference")
    if not isinstance(reference, str) or not 0 < len(reference) <= MAX_REFERENCE:
        raise CallbackRefused("malformed", f"reference: a string of 1-{MAX_REFERENCE} characters is required")
    status = data.get("status")
    if status not in (CONFIRMED, FAILED):
        raise CallbackRefused("malformed", f"status: must be {CONFIRMED!r} or {FAILED!r}")
    raw_amount = data.get("amount")
    try:
        amount = Decimal(raw_amount) if isinstance(raw_amount, str | int) and not isinstance(raw_amount, bool) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or not 0 < amount < MAX_AMOUNT or not is_fen_exact(amount):
        raise CallbackRefused("malformed", "amount: a positive decimal string with at most 2 places is required")
    gateway_reference = data.get("gateway_reference", "")
    if not isinstance(gateway_reference, str) or len(gateway_reference) > MAX_GATEWAY_REFERENCE:
        raise CallbackRefused("malformed", f"gateway_reference: at most {MAX_GATEWAY_REFERENCE} characters")
    value_date = None
    if data.get("value_date") is not None:
        try:
            value_date = date.fromisoformat(data["value_date"])
        except (TypeError, ValueError):
            raise CallbackRefused("malformed", "value_date: YYYY-MM-DD") from None
    reason = data.get("reason", "")
    if not isinstance(reason, str):
        raise CallbackRefused("malformed", "reason: must be a string")
    return Report(reference, status, amount, gateway_reference, value_date, reason[:200])


def report_from_json(body: bytes) -> Report:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise CallbackRefused("malformed", "the body is not JSON") from None
    return report_from_mapping(data)


SETTLEMENT_COLUMNS = ["reference", "gateway_reference", "amount"]


def settlement_csv_parse(text: str) -> list[SettlementLine]:
    lines = []
    for number, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            amount = Decimal(row["amount"])
        except (InvalidOperation, KeyError, TypeError):
            raise ValueError(f"settlement file line {number}: amount is not a number") from None
        if not row.get("reference"):
            raise ValueError(f"settlement file line {number}: reference is missing")
        lines.append(SettlementLine(row["reference"], amount, row.get("gateway_reference") or ""))
    return lines


def settlement_csv_render(lines: list[SettlementLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SETTLEMENT_COLUMNS)
    for line in lines:
        writer.writerow([line.reference, line.gateway_reference, f"{line.amount:.2f}"])
    return out.getvalue()
