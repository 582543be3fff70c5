"""rotate_pii_key re-encrypts every PII column under the new key, in resumable chunks, keeping look-ups working."""

import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from stdnum.cn import ric

from core import pii
from core.pii_rotation import encrypted_columns, pii_key_rotate
from lending.identity import mobile_normalize
from lending.models import Borrower, Partner
from lending.services.borrowers import borrower_onboard_business, borrower_onboard_person
from payments.models import PaymentAccount
from payments.services.accounts import payment_account_add

pytestmark = pytest.mark.django_db

TODAY = date(2031, 1, 15)
PEOPLE = 7
CARD = "6222021234567890128"  # Luhn-valid


def national_id(serial: int) -> str:
    first_17 = f"11010119900101{serial:03d}"
    return first_17 + ric.calc_check_digit(first_17 + "0")


@pytest.fixture
def keys(settings):
    old, new = pii.generate_key(), pii.generate_key()
    settings.PII_ENCRYPTION_KEYS = {"old": old}
    settings.PII_ACTIVE_KEY_ID = "old"
    settings.PII_HASH_KEY = pii.generate_key()
    return {"old": old, "new": new}


@pytest.fixture
def book(keys) -> dict[int, tuple[str, str]]:
    """Borrowers onboarded under the old key: id → (national id or credit code, mobile) as stored."""
    partner = Partner.objects.create(code="acme", name="Acme Finance")
    for serial in range(PEOPLE):
        borrower_onboard_person(
            partner=partner,
            name="Zhang San",
            national_id=national_id(serial),
            mobile=f"1381234{serial:04d}",
            monthly_income=Decimal("9000"),
            today=TODAY,
        )
    borrower_onboard_business(
        partner=partner,
        name="Corner Shop",
        credit_code="91350100M000100Y43",
        mobile="13900000000",
        legal_representative="Li Si",
        business_type="retail",
        business_start_date=date(2020, 1, 1),
        today=TODAY,
    )
    payment_account_add(
        borrower_id=Borrower.objects.order_by("pk").first().pk,
        kind="bank_card", bank="ICBC", number=CARD, holder_name="Zhang San",
    )  # fmt: skip
    clear = _decrypted()
    assert clear[min(clear)] == (national_id(0), "+8613812340000")
    return clear


def _switch_to_new_key(settings, keys, *, keep_old: bool = True) -> None:
    settings.PII_ENCRYPTION_KEYS = {"old": keys["old"], "new": keys["new"]} if keep_old else {"new": keys["new"]}
    settings.PII_ACTIVE_KEY_ID = "new"


def _decrypted() -> dict[int, tuple[str, str]]:
    return {
        row.pk: (pii.decrypt(row.national_id_encrypted or row.credit_code_encrypted), pii.decrypt(row.mobile_encrypted))
        for row in Borrower.objects.all()
    }


def test_the_encrypted_columns_are_found_by_their_suffix():
    found = {columns.label: columns.fields for columns in encrypted_columns()}

    assert found == {
        "lending.Borrower": ("national_id_encrypted", "mobile_encrypted", "credit_code_encrypted"),
        "payments.PaymentAccount": ("number_encrypted",),
    }


def test_after_rotation_the_old_key_can_be_removed_and_every_value_still_decrypts(book, keys, settings):
    _switch_to_new_key(settings, keys)
    out, err = StringIO(), StringIO()

    call_command("rotate_pii_key", "--chunk-size", "3", stdout=out, stderr=err)

    assert "lending.Borrower: 8 row(s) re-encrypted" in out.getvalue()
    assert "lending.Borrower: 3/3 chunks" in err.getvalue()
    _switch_to_new_key(settings, keys, keep_old=False)
    assert _decrypted() == book
    assert all(row.mobile_encrypted.startswith("new:") for row in Borrower.objects.all())
    account = PaymentAccount.objects.get()
    assert account.number_encrypted.startswith("new:") and pii.decrypt(account.number_encrypted) == CARD


def test_keyed_hashes_are_unchanged_so_look_ups_still_find_the_borrower(book, keys, settings):
    hashes_before = dict(Borrower.objects.values_list("pk", "mobile_hash"))
    _switch_to_new_key(settings, keys)

    pii_key_rotate(chunk_size=4)

    assert dict(Borrower.objects.values_list("pk", "mobile_hash")) == hashes_before
    assert Borrower.objects.filter(mobile_hash=pii.lookup_hash(mobile_normalize("13812340003"))).count() == 1


def test_an_interrupted_rotation_is_resumed_by_running_it_again(book, keys, settings, monkeypatch):
    _switch_to_new_key(settings, keys)
    real_encrypt, calls = pii.encrypt, []

    def encrypt_then_crash(plaintext):
        calls.append(plaintext)
        if len(calls) > 2 * 3:  # two tokens per row: crash inside the second chunk of three rows
            raise RuntimeError("worker killed")
        return real_encrypt(plaintext)

    monkeypatch.setattr(pii, "encrypt", encrypt_then_crash)
    with pytest.raises(RuntimeError, match="worker killed"):
        pii_key_rotate(chunk_size=3)
    monkeypatch.setattr(pii, "encrypt", real_encrypt)
    # The first chunk committed, the crashed one rolled back whole.
    assert sum(row.mobile_encrypted.startswith("new:") for row in Borrower.objects.all()) == 3

    out = StringIO()
    call_command("rotate_pii_key", "--check", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"stale": {"lending.Borrower": PEOPLE + 1 - 3, "payments.PaymentAccount": 1}}

    assert pii_key_rotate(chunk_size=3) == {"lending.Borrower": PEOPLE + 1 - 3, "payments.PaymentAccount": 1}
    _switch_to_new_key(settings, keys, keep_old=False)
    assert _decrypted() == book


def test_a_second_rotation_has_nothing_to_do(book, keys, settings):
    _switch_to_new_key(settings, keys)
    pii_key_rotate()

    assert pii_key_rotate() == {"lending.Borrower": 0, "payments.PaymentAccount": 0}


def test_an_unreadable_token_stops_the_rotation_naming_the_row_and_column(book, keys, settings):
    victim = Borrower.objects.order_by("pk").first()
    Borrower.objects.filter(pk=victim.pk).update(mobile_encrypted="gone:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    _switch_to_new_key(settings, keys)

    with pytest.raises(Exception, match=f"lending.Borrower {victim.pk}: unknown PII key id 'gone'") as raised:
        pii_key_rotate()

    assert raised.value.field == "mobile_encrypted"
