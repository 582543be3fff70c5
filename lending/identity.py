"""Validation, normalisation and display masks for borrower identifiers.

Pure functions (no ORM): Chinese resident identity numbers, mobile numbers
and unified social credit codes. Each `*_normalize` returns the canonical
form that is encrypted and hashed (`core.pii`) or raises `DomainError` with
code `invalid_<thing>` and `field` set to the caller's input name. Error
messages never repeat the value, because errors get logged and these values
are personal data.
"""

import datetime
import re
import unicodedata

import phonenumbers
from stdnum.cn import ric, uscc
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)

from core.errors import DomainError
from core.pii import mask

__all__ = [
    "mobile_mask",
    "mobile_normalize",
    "national_id_birth_date",
    "national_id_mask",
    "national_id_normalize",
    "uscc_mask",
    "uscc_normalize",
]

# Separators people type or paste into identifiers; stdnum's own compact()
# keeps inner spaces, which would then fail as a length error.
_SEPARATORS_RE = re.compile(r"[\s\-]+")
# Digits and the punctuation people write phone numbers with. Letters are
# refused up front: phonenumbers would read "138-ABCD-5678" as a vanity
# number and "ext 12" as an extension, neither of which is a mobile.
_PHONE_CHARS_RE = re.compile(r"[0-9+()\-.\s]+")
# Earliest year accepted in a birth date; older "dates" are typos.
_EARLIEST_BIRTH_YEAR = 1900


def national_id_normalize(value: str, *, field: str = "national_id", today: datetime.date | None = None) -> str:
    """Return the 18-character resident identity number, upper-case 'X' check character.

    Full-width characters, spaces and hyphens are accepted and removed.
    Checks, in order: length and format, checksum, birth date (a real date
    from 1900 on, and not after `today` when given — onboarding passes the
    business date; a look-up passes none), region code (known to stdnum for
    the birth year).
    """
    code = "invalid_national_id"
    number = _compact(value, code=code, field=field, label="National id")
    try:
        number = ric.validate(number)
    except InvalidLength:
        raise DomainError(code, "National id must be 18 characters.", field=field) from None
    except InvalidFormat:
        raise DomainError(code, "National id must be 17 digits followed by a digit or 'X'.", field=field) from None
    except InvalidChecksum:
        raise DomainError(code, "National id check character does not match (checksum).", field=field) from None
    except InvalidComponent:
        # stdnum raises the same exception for the birth date and the region.
        try:
            ric.get_birth_date(number)
        except InvalidComponent:
            raise DomainError(code, "National id holds an impossible birth date.", field=field) from None
        raise DomainError(code, "National id holds an unknown region code.", field=field) from None
    except ValidationError:
        raise DomainError(code, "National id is not valid.", field=field) from None
    birth_date = ric.get_birth_date(number)
    if birth_date.year < _EARLIEST_BIRTH_YEAR or (today is not None and birth_date > today):
        raise DomainError(code, "National id holds an impossible birth date.", field=field)
    return number


def national_id_birth_date(
    value: str, *, field: str = "national_id", today: datetime.date | None = None
) -> datetime.date:
    """Return the birth date encoded in a national id; invalid ids raise `DomainError`."""
    return ric.get_birth_date(national_id_normalize(value, field=field, today=today))


def mobile_normalize(value: str, *, field: str = "mobile") -> str:
    """Return a mainland-China mobile number in E.164 form, e.g. "+8613812345678".

    Accepts the usual ways of writing one ("138 1234 5678", "+86-138...",
    "0086138...", full-width digits). Landlines, numbers of other regions
    (including Hong Kong and Macau), letters and extensions are refused.
    """
    code = "invalid_mobile"
    if not isinstance(value, str) or not value.strip():
        raise DomainError(code, "Mobile number is required.", field=field)
    text = unicodedata.normalize("NFKC", value).strip()
    if not _PHONE_CHARS_RE.fullmatch(text):
        raise DomainError(
            code,
            "Mobile number may contain only digits, spaces, '+', '-' and brackets.",
            field=field,
        )
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise DomainError(code, "Mobile number cannot be read as a phone number.", field=field) from None
    if number.country_code != 86:
        raise DomainError(code, "Mobile number must be a mainland China (+86) number.", field=field)
    if not phonenumbers.is_valid_number(number):
        raise DomainError(code, "Mobile number is not a valid China number.", field=field)
    if phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE:
        raise DomainError(code, "Mobile number must be a mobile, not a landline.", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def uscc_normalize(value: str, *, field: str = "credit_code") -> str:
    """Return the 18-character unified social credit code (统一社会信用代码), upper-case."""
    code = "invalid_credit_code"
    number = _compact(value, code=code, field=field, label="Credit code")
    try:
        return uscc.validate(number)
    except InvalidLength:
        raise DomainError(code, "Credit code must be 18 characters.", field=field) from None
    except InvalidFormat:
        raise DomainError(
            code,
            "Credit code must be 8 digits then letters or digits (no I, O, S, V, Z).",
            field=field,
        ) from None
    except InvalidChecksum:
        raise DomainError(code, "Credit code check character does not match (checksum).", field=field) from None
    except ValidationError:
        raise DomainError(code, "Credit code is not valid.", field=field) from None


def national_id_mask(value: str) -> str:
    """'330102199001011234' -> '3301**********1234' (first 4, last 4)."""
    return mask(_display_compact(value), keep_start=4, keep_end=4)


def mobile_mask(value: str) -> str:
    """'+8613812345678' -> '+86 138****5678': country code, first 3 and last 4 digits.

    Anything that does not parse as a phone number is masked generically
    (last 4 at most), so a bad stored value never breaks a screen or leaks.
    """
    text = _display_compact(value, upper=False)
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return mask(text, keep_start=0, keep_end=4)
    national = phonenumbers.national_significant_number(number)
    return f"+{number.country_code} {mask(national, keep_start=3, keep_end=4)}"


def uscc_mask(value: str) -> str:
    """'91330106MA2XXXXXX1' -> '9133**********XXX1' (first 4, last 4)."""
    return mask(_display_compact(value), keep_start=4, keep_end=4)


def _compact(value: str, *, code: str, field: str, label: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DomainError(code, f"{label} is required.", field=field)
    # NFKC turns full-width digits and letters (common in Chinese input) into ASCII.
    return _SEPARATORS_RE.sub("", unicodedata.normalize("NFKC", value)).upper()


def _display_compact(value: str, *, upper: bool = True) -> str:
    text = _SEPARATORS_RE.sub("", unicodedata.normalize("NFKC", value or ""))
    return text.upper() if upper else text
