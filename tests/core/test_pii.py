import base64

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st

from core.pii import (
    PiiDecryptionError,
    decrypt,
    encrypt,
    generate_key,
    lookup_hash,
    mask,
    needs_reencryption,
)

NATIONAL_ID = "330102199001011234"


@pytest.fixture
def pii_keys(settings):
    """Explicit keys, so these tests never depend on the embedded defaults."""
    keys = {"k1": generate_key(), "k2": generate_key()}
    settings.PII_ENCRYPTION_KEYS = keys
    settings.PII_ACTIVE_KEY_ID = "k1"
    settings.PII_HASH_KEY = generate_key()
    return keys


def _payload(token: str) -> bytes:
    return base64.urlsafe_b64decode(token.partition(":")[2])


def _token(key_id: str, payload: bytes) -> str:
    return f"{key_id}:{base64.urlsafe_b64encode(payload).decode()}"


# --- encryption ---------------------------------------------------------------


@pytest.mark.parametrize("plaintext", [NATIONAL_ID, "+8613812345678", "张三", ""])
def test_encrypted_value_decrypts_to_the_original(pii_keys, plaintext):
    assert decrypt(encrypt(plaintext)) == plaintext


def test_token_names_the_active_key_and_hides_the_value(pii_keys):
    token = encrypt(NATIONAL_ID)

    assert token.startswith("k1:")
    assert NATIONAL_ID not in token


def test_token_has_a_96_bit_nonce_and_a_128_bit_tag(pii_keys):
    assert len(_payload(encrypt(NATIONAL_ID))) == 12 + len(NATIONAL_ID) + 16


def test_two_encryptions_of_the_same_value_differ(pii_keys):
    assert encrypt(NATIONAL_ID) != encrypt(NATIONAL_ID)


def test_token_made_under_an_old_key_still_decrypts_after_the_active_key_changes(pii_keys, settings):
    old_token = encrypt(NATIONAL_ID)

    settings.PII_ACTIVE_KEY_ID = "k2"

    assert decrypt(old_token) == NATIONAL_ID
    assert encrypt(NATIONAL_ID).startswith("k2:")


def test_only_tokens_under_a_retired_key_need_reencryption(pii_keys, settings):
    old_token = encrypt(NATIONAL_ID)
    settings.PII_ACTIVE_KEY_ID = "k2"
    new_token = encrypt(NATIONAL_ID)

    assert needs_reencryption(old_token) is True
    assert needs_reencryption(new_token) is False


def test_tampered_ciphertext_is_refused(pii_keys):
    token = encrypt(NATIONAL_ID)
    payload = bytearray(_payload(token))
    payload[15] ^= 0x01

    with pytest.raises(PiiDecryptionError, match="authentication"):
        decrypt(_token("k1", bytes(payload)))


def test_tampered_nonce_is_refused(pii_keys):
    payload = bytearray(_payload(encrypt(NATIONAL_ID)))
    payload[0] ^= 0x80

    with pytest.raises(PiiDecryptionError):
        decrypt(_token("k1", bytes(payload)))


def test_token_with_its_key_id_swapped_for_another_known_key_is_refused(pii_keys):
    token = encrypt(NATIONAL_ID)
    swapped = "k2:" + token.partition(":")[2]

    with pytest.raises(PiiDecryptionError):
        decrypt(swapped)


def test_token_relabelled_with_a_key_id_holding_the_same_key_material_is_refused(pii_keys, settings):
    # The key id is associated data, so even an alias of the same key cannot adopt a token.
    settings.PII_ENCRYPTION_KEYS = {**pii_keys, "alias": pii_keys["k1"]}
    token = encrypt(NATIONAL_ID)

    with pytest.raises(PiiDecryptionError):
        decrypt("alias:" + token.partition(":")[2])


def test_token_under_an_unknown_key_id_is_refused(pii_keys):
    token = encrypt(NATIONAL_ID)

    with pytest.raises(PiiDecryptionError, match="unknown PII key id 'gone'"):
        decrypt("gone:" + token.partition(":")[2])


def test_pii_decryption_error_is_a_value_error():
    assert issubclass(PiiDecryptionError, ValueError)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "no-separator",
        "k1:",
        ":" + "A" * 40,
        "k1:not base64!",
        "k1:" + base64.urlsafe_b64encode(b"too short").decode(),
        "k1:abc",  # bad padding
        "k 1:" + "A" * 40,
    ],
)
def test_malformed_token_is_refused(pii_keys, token):
    with pytest.raises(PiiDecryptionError, match="malformed"):
        decrypt(token)


def test_token_with_non_canonical_base64_is_refused(pii_keys):
    token = encrypt("a")  # 12 + 1 + 16 = 29 bytes: the last base64 character has 2 spare bits
    key_id, _, payload = token.partition(":")
    assert payload.endswith("=")
    last = payload.rstrip("=")[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    sibling = alphabet[alphabet.index(last) ^ 0b01]  # flips a spare bit only
    forged = payload.rstrip("=")[:-1] + sibling + "="
    assert base64.urlsafe_b64decode(forged) == base64.urlsafe_b64decode(payload)

    with pytest.raises(PiiDecryptionError, match="canonical"):
        decrypt(f"{key_id}:{forged}")


def test_key_material_changed_under_the_same_id_is_not_served_from_a_stale_cache(pii_keys, settings):
    token = encrypt(NATIONAL_ID)

    settings.PII_ENCRYPTION_KEYS = {**pii_keys, "k1": generate_key()}

    with pytest.raises(PiiDecryptionError):
        decrypt(token)


def test_active_key_id_missing_from_the_keys_is_a_configuration_error(pii_keys, settings):
    settings.PII_ACTIVE_KEY_ID = "k9"

    with pytest.raises(ImproperlyConfigured):
        encrypt(NATIONAL_ID)


def test_key_of_the_wrong_length_is_a_configuration_error(pii_keys, settings):
    settings.PII_ENCRYPTION_KEYS = {"k1": base64.urlsafe_b64encode(b"x" * 16).decode()}

    with pytest.raises(ImproperlyConfigured, match="32 bytes"):
        encrypt(NATIONAL_ID)


def test_generated_keys_are_distinct_32_byte_urlsafe_base64():
    first, second = generate_key(), generate_key()

    assert first != second
    assert len(base64.urlsafe_b64decode(first)) == 32
    assert set(first) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")


# --- look-up hash -------------------------------------------------------------


def test_lookup_hash_is_a_stable_sha256_hex_digest(pii_keys):
    digest = lookup_hash(NATIONAL_ID)

    assert digest == lookup_hash(NATIONAL_ID)
    assert len(digest) == 64
    assert int(digest, 16) >= 0


def test_lookup_hash_ignores_case_spacing_and_full_width_digits(pii_keys):
    assert lookup_hash("11010519850315102X") == lookup_hash(" 110105 19850315 102x ")
    assert lookup_hash("13812345678") == lookup_hash("１３８１２３４５６７８")


def test_lookup_hash_differs_for_different_values(pii_keys):
    assert lookup_hash(NATIONAL_ID) != lookup_hash("440305199512310020")


def test_lookup_hash_differs_under_another_hash_key(pii_keys, settings):
    before = lookup_hash(NATIONAL_ID)

    settings.PII_HASH_KEY = generate_key()

    assert lookup_hash(NATIONAL_ID) != before


def test_lookup_hash_is_not_a_plain_sha256_of_the_value(pii_keys):
    import hashlib

    assert lookup_hash(NATIONAL_ID) != hashlib.sha256(NATIONAL_ID.encode()).hexdigest()


def test_lookup_hash_does_not_change_when_the_encryption_key_rotates(pii_keys, settings):
    before = lookup_hash(NATIONAL_ID)

    settings.PII_ACTIVE_KEY_ID = "k2"

    assert lookup_hash(NATIONAL_ID) == before


# --- masking ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "keep_start", "keep_end", "expected"),
    [
        ("330102199001011234", 4, 4, "3301**********1234"),
        ("13812345678", 3, 4, "138****5678"),
        ("123456789", 4, 4, "1234*6789"),
        ("abcdef", 0, 0, "******"),
        ("abcdef", 0, 2, "****ef"),
        ("", 4, 4, ""),
    ],
)
def test_mask_keeps_the_requested_ends(value, keep_start, keep_end, expected):
    assert mask(value, keep_start=keep_start, keep_end=keep_end) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", "*"),
        ("12", "**"),
        ("123", "**3"),
        ("12345", "****5"),
        ("123456", "****56"),
        ("12345678", "******78"),
    ],
)
def test_mask_of_a_value_no_longer_than_the_kept_ends_shows_at_most_the_last_third(value, expected):
    assert mask(value, keep_start=4, keep_end=4) == expected


def test_mask_uses_the_given_mask_character():
    assert mask("13812345678", keep_start=3, keep_end=4, mask_char="•") == "138••••5678"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"keep_start": -1, "keep_end": 4},
        {"keep_start": 4, "keep_end": -1},
        {"keep_start": 4, "keep_end": 4, "mask_char": "**"},
        {"keep_start": 4, "keep_end": 4, "mask_char": ""},
    ],
)
def test_mask_refuses_nonsense_arguments(kwargs):
    with pytest.raises(ValueError):
        mask("330102199001011234", **kwargs)


@given(
    value=st.text(alphabet=st.characters(blacklist_characters="*"), max_size=40),
    keep_start=st.integers(min_value=0, max_value=12),
    keep_end=st.integers(min_value=0, max_value=12),
)
def test_mask_never_reveals_more_than_the_kept_ends_and_keeps_the_length(value, keep_start, keep_end):
    masked = mask(value, keep_start=keep_start, keep_end=keep_end)

    assert len(masked) == len(value)
    revealed = [i for i, char in enumerate(masked) if char != "*"]
    assert len(revealed) <= keep_start + keep_end
    assert all(masked[i] == value[i] for i in revealed)
    if value:
        assert len(revealed) < len(value)
