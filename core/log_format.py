"""Structured logs: one JSON object per line, with the request id and partner code, and personal data masked.

`PiiMaskFilter` masks national ids, credit codes, bank card numbers and mainland
mobile numbers in the message and the exception text of every record passing
a handler it is attached to (attach it to handlers, not loggers: a logger's
filters do not see records propagated from child loggers).
"""

import json
import logging
import re
from datetime import UTC, datetime

from core.pii import mask
from core.request_context import partner_code_var, request_id_var

# Order matters: an 18-character national id or credit code would also look like a card number.
_PII_PATTERNS = [
    # Resident identity card: 17 digits and a check digit (or the old 15-digit form).
    re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])|(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])"),
    # Unified social credit code: 18 characters of a restricted alphabet with at least 8 digits in places 3-8.
    re.compile(r"(?<![0-9A-Za-z])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Za-z])"),
    # Bank card: 16-19 digits, run together or in groups of four split by a space, a dash, or a space
    # encoded in a URL ("+", "%20"); two dates in a row are not a card.
    re.compile(r"(?<![0-9A-Za-z])(?:\d{16,19}|\d{4}(?:(?:[ +-]|%20)\d{4}){3}(?:(?:[ +-]|%20)\d{1,3})?)(?![0-9A-Za-z])"),
    # Mainland mobile, with or without +86.
    re.compile(r"(?<!\d)(?:\+?86[ -]?)?1[3-9]\d{9}(?!\d)"),
]

STANDARD_ATTRIBUTES = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id", "partner"}


def pii_mask_text(text: str) -> str:
    for pattern in _PII_PATTERNS:
        text = pattern.sub(lambda match: mask(match.group(), keep_start=0, keep_end=4), text)
    return text


class PiiMaskFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = pii_mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        for name, value in list(record.__dict__.items()):
            if name not in STANDARD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, pii_mask_text(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = pii_mask_text(record.exc_text)
        return True


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.partner = partner_code_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "partner": getattr(record, "partner", "-"),
        }
        for name, value in record.__dict__.items():
            if name not in STANDARD_ATTRIBUTES and not name.startswith("_"):
                payload[name] = value if isinstance(value, int | float | bool | type(None)) else str(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exception"] = record.exc_text
        return json.dumps(payload, ensure_ascii=False)
