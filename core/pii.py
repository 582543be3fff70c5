"""Encryption at rest, keyed look-up hashes and display masks for personal data.

National ids, mobiles, credit codes and (later) bank card numbers are stored
as AES-256-GCM tokens, never in clear. GCM is authenticated encryption: a
token that was altered, truncated or moved to another key id fails to
decrypt instead of yielding wrong data. Each token names the key it was
made with (`"<key_id>:<urlsafe-b64(nonce || ciphertext)>"`) and that key id
is bound as associated data, so keys can be rotated: every key listed in
`PII_ENCRYPTION_KEYS` still decrypts, only `PII_ACTIVE_KEY_ID` encrypts, and
`needs_reencryption` finds the tokens a rotation job must rewrite.

Random nonces make two encryptions of one value differ, so equality search
and duplicate detection use `lookup_hash` instead: an HMAC-SHA256 under a
separate key (`PII_HASH_KEY`). It is keyed, not a plain SHA-256, because
these values have little entropy: an 18-digit national id is a 6-digit
region, an 8-digit birth date, a 3-digit sequence and a check digit, so
every plausible id can be hashed in minutes and a plain hash column would
give them all back to anyone who reads the database. The hash key is
separate from the encryption keys so that rotating one does not touch the
other, and a leak of one does not expose the other's use.

Keys are read from Django settings when a function is called, never at
import, so tests can override them.
"""

import base64
import binascii
import functools
import hashlib
import hmac
import re
import secrets
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = [
    "PiiDecryptionError",
    "active_key_id",
    "decrypt",
    "encrypt",
    "generate_key",
    "lookup_hash",
    "mask",
    "needs_reencryption",
]

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96 bits: the size GCM is specified for
TAG_BYTES = 16

# Key ids appear in tokens and in the "id:key,id:key" environment format, so
# they must not contain ':' or ','; a short, plain alphabet also keeps them
# safe to log.
_KEY_ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_TOKEN_RE = re.compile(r"(?P<key_id>[A-Za-z0-9_.-]{1,32}):(?P<payload>[A-Za-z0-9_-]+={0,2})")
# Versioned so that a future token format cannot be confused with this one.
_AAD_PREFIX = b"pii-v1:"


class PiiDecryptionError(ValueError):
    """A token that cannot be decrypted: malformed, tampered, or under an unknown key."""


def generate_key() -> str:
    """Return a new random 256-bit key as urlsafe base64, for settings and rotation."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def encrypt(plaintext: str) -> str:
    """Encrypt `plaintext` under the active key; returns `"<key_id>:<urlsafe-b64>"`."""
    if not isinstance(plaintext, str):
        raise TypeError(f"encrypt() takes str, not {type(plaintext).__name__}")
    key_id = active_key_id()
    aead = _aead(key_id, _encryption_keys()[key_id])
    nonce = secrets.token_bytes(NONCE_BYTES)
    ciphertext = aead.encrypt(nonce, plaintext.encode("utf-8"), _aad(key_id))
    return f"{key_id}:{base64.urlsafe_b64encode(nonce + ciphertext).decode('ascii')}"


def decrypt(token: str) -> str:
    """Return the plaintext of `token`; raise `PiiDecryptionError` if it cannot be trusted."""
    key_id, payload = _parse_token(token)
    keys = _encryption_keys()
    if key_id not in keys:
        raise PiiDecryptionError(f"unknown PII key id {key_id!r}")
    try:
        raw = base64.urlsafe_b64decode(payload)
    except (binascii.Error, ValueError):
        raise PiiDecryptionError("malformed PII token: payload is not base64") from None
    # Only the canonical encoding is accepted, so no two token strings carry
    # the same bytes (base64 ignores the spare bits of the last character).
    if base64.urlsafe_b64encode(raw).decode("ascii") != payload:
        raise PiiDecryptionError("malformed PII token: payload is not canonical base64")
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise PiiDecryptionError("malformed PII token: payload too short")
    nonce, ciphertext = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    try:
        plaintext = _aead(key_id, keys[key_id]).decrypt(nonce, ciphertext, _aad(key_id))
    except InvalidTag:
        # Deliberately vague: wrong key material, edited ciphertext and a
        # swapped key id all look the same to GCM.
        raise PiiDecryptionError(
            f"PII token failed authentication under key {key_id!r} (tampered or wrong key)"
        ) from None
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError:  # pragma: no cover - authenticated data is what we wrote
        raise PiiDecryptionError("PII token does not hold UTF-8 text") from None


def needs_reencryption(token: str) -> bool:
    """True when `token` was made under a key other than the active one.

    Raises `PiiDecryptionError` for a malformed token; does not decrypt.
    """
    key_id, _ = _parse_token(token)
    return key_id != active_key_id()


def lookup_hash(value: str) -> str:
    """HMAC-SHA256 (hex) of `value` under `PII_HASH_KEY`, for equality search.

    The value is normalised first (Unicode NFKC, all whitespace removed,
    upper-cased) so that full-width digits, stray spaces and a lower-case
    check character 'x' hash like their canonical form. Callers should still
    pass the domain-normalised value (e.g. from `lending.identity`); this is
    the safety net, not the validation.
    """
    if not isinstance(value, str):
        raise TypeError(f"lookup_hash() takes str, not {type(value).__name__}")
    normalised = "".join(unicodedata.normalize("NFKC", value).split()).upper()
    return hmac.new(_hash_key(), normalised.encode("utf-8"), hashlib.sha256).hexdigest()


def mask(value: str, *, keep_start: int, keep_end: int, mask_char: str = "*") -> str:
    """Replace the middle of `value` with `mask_char`, keeping its length.

    `mask("330102199001011234", keep_start=4, keep_end=4) == "3301**********1234"`.

    Safe rule for short values: when `len(value) <= keep_start + keep_end`
    showing the requested ends would show (nearly) everything, so only the
    last `min(keep_end, 2, len(value) // 3)` characters stay visible and
    nothing at the start: at least two thirds of a short value is always
    masked, and a value of one or two characters is masked entirely. In
    every case at most `keep_start + keep_end` characters are shown and at
    least one is masked (for a non-empty value).
    """
    if keep_start < 0 or keep_end < 0:
        raise ValueError("keep_start and keep_end must not be negative")
    if len(mask_char) != 1:
        raise ValueError("mask_char must be a single character")
    length = len(value)
    if length <= keep_start + keep_end:
        keep_start, keep_end = 0, min(keep_end, 2, length // 3)
    tail = value[length - keep_end :] if keep_end else ""
    return value[:keep_start] + mask_char * (length - keep_start - keep_end) + tail


# --- settings ---------------------------------------------------------------


def _encryption_keys() -> dict[str, str]:
    keys = getattr(settings, "PII_ENCRYPTION_KEYS", None)
    if not keys or not isinstance(keys, dict):
        raise ImproperlyConfigured("PII_ENCRYPTION_KEYS must be a non-empty dict {key_id: key}")
    return keys


def active_key_id() -> str:
    """The id of the key that encrypts new values (`PII_ACTIVE_KEY_ID`)."""
    key_id = getattr(settings, "PII_ACTIVE_KEY_ID", None)
    if key_id not in _encryption_keys():
        raise ImproperlyConfigured("PII_ACTIVE_KEY_ID must name one of PII_ENCRYPTION_KEYS")
    return key_id


def _hash_key() -> bytes:
    encoded = getattr(settings, "PII_HASH_KEY", None)
    if not encoded:
        raise ImproperlyConfigured("PII_HASH_KEY must be set")
    return _decode_key(encoded, "PII_HASH_KEY")


def _decode_key(encoded: str, name: str) -> bytes:
    try:
        key = base64.b64decode(encoded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ImproperlyConfigured(f"{name} is not urlsafe base64") from None
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(f"{name} must decode to {KEY_BYTES} bytes, not {len(key)}")
    return key


# Keyed on the key material as well as the id, so a settings override (tests,
# a rotation that reuses an id by mistake) can never pick up a stale cipher.
@functools.lru_cache(maxsize=32)
def _aead(key_id: str, encoded_key: str) -> AESGCM:
    if not _KEY_ID_RE.fullmatch(key_id):
        raise ImproperlyConfigured(f"PII key id {key_id!r} must be 1-32 characters of A-Z a-z 0-9 _ . -")
    return AESGCM(_decode_key(encoded_key, f"PII_ENCRYPTION_KEYS[{key_id!r}]"))


def _aad(key_id: str) -> bytes:
    return _AAD_PREFIX + key_id.encode("ascii")


def _parse_token(token: str) -> tuple[str, str]:
    if not isinstance(token, str):
        raise TypeError(f"PII token must be str, not {type(token).__name__}")
    match = _TOKEN_RE.fullmatch(token)
    if match is None:
        raise PiiDecryptionError("malformed PII token: expected '<key_id>:<urlsafe-base64>'")
    return match["key_id"], match["payload"]
