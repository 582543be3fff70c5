"""Payment accounts: encrypted, masked and hashed numbers, the holder check, roles, and the partner API."""

import pytest

from core import pii
from core.errors import DomainError
from payments.models import PaymentAccount
from payments.services.accounts import payment_account_add

CARD = "6222021234567890128"
CARD_2 = "6217001234567890122"


def test_a_card_is_stored_encrypted_hashed_and_masked(world):
    account = world.card(for_disbursement=True, debit_priority=1)
    assert CARD not in account.number_encrypted
    assert pii.decrypt(account.number_encrypted) == CARD
    assert account.number_masked == "6222***********0128"
    assert account.history.count() == 1


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"number": "6222021234567890127"}, "invalid_account_number"),
        ({"number": "12ab"}, "invalid_account_number"),
        ({"holder_name": "Wang Wu"}, "holder_mismatch"),
        ({"kind": "cash"}, "invalid_choice"),
        ({"debit_priority": 0}, "invalid_priority"),
        ({"bank": " "}, "required"),
    ],
)
def test_bad_accounts_are_refused_and_nothing_is_written(world, changes, code):
    arguments = {"kind": "bank_card", "bank": "ICBC", "number": CARD, "holder_name": "Li Si", **changes}
    with pytest.raises(DomainError) as refused:
        payment_account_add(borrower_id=world.borrower.pk, **arguments)
    assert refused.value.code == code
    assert not PaymentAccount.objects.exists()


def test_the_holder_check_ignores_spacing_and_width(world):
    account = payment_account_add(
        borrower_id=world.borrower.pk, kind="wallet", bank="Alipay", number="lisi@example.com", holder_name=" LI  SI "
    )
    assert account.number_masked.endswith(".com")


def test_the_same_number_twice_is_refused(world):
    world.card()
    with pytest.raises(DomainError, match="already on file"):
        world.card()


def test_one_disbursement_account_and_an_ordered_debit_list(world):
    first = world.card(for_disbursement=True, debit_priority=1)
    second = world.card(number=CARD_2, for_disbursement=True, debit_priority=1)
    first.refresh_from_db()
    assert (first.for_disbursement, first.debit_priority) == (False, 2)
    assert (second.for_disbursement, second.debit_priority) == (True, 1)


def test_the_api_adds_and_lists_accounts_showing_only_masks(world):
    response = world.post(
        f"/api/v1/borrowers/{world.borrower.pk}/payment-accounts",
        {"kind": "bank_card", "bank": "ICBC", "number": CARD, "holder_name": "Li Si", "for_disbursement": True},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["number_masked"] == "6222***********0128"
    listed = world.client.get(f"/api/v1/borrowers/{world.borrower.pk}/payment-accounts").json()
    assert [row["id"] for row in listed] == [response.json()["id"]]
    assert CARD not in str(listed)


def test_another_partners_borrower_answers_404(world, other):
    path = f"/api/v1/borrowers/{other.borrower.pk}/payment-accounts"
    assert world.client.get(path).status_code == 404
    body = {"kind": "bank_card", "bank": "ICBC", "number": CARD, "holder_name": "Li Si"}
    assert world.post(path, body).status_code == 404
    assert not PaymentAccount.objects.exists()


def test_adding_an_account_needs_an_idempotency_key_and_replays(world):
    path = f"/api/v1/borrowers/{world.borrower.pk}/payment-accounts"
    body = {"kind": "bank_card", "bank": "ICBC", "number": CARD, "holder_name": "Li Si"}
    assert world.client.post(path, body, format="json").status_code == 400
    first = world.post(path, body, key="acct-1")
    again = world.post(path, body, key="acct-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert PaymentAccount.objects.count() == 1


def test_a_mismatched_holder_answers_422_with_the_field(world):
    response = world.post(
        f"/api/v1/borrowers/{world.borrower.pk}/payment-accounts",
        {"kind": "bank_card", "bank": "ICBC", "number": CARD, "holder_name": "Zhao Liu"},
    )
    assert response.status_code == 422
    assert "holder_name" in response.json()["error"]["fields"]
    assert not PaymentAccount.objects.exists()
