"""Onboarding people: identifiers validated, encrypted at rest, hashed for look-up, masked for display."""

from decimal import Decimal

import pytest
from stdnum.cn import ric

from core import pii
from core.errors import DomainError
from lending.models import Borrower
from lending.services.borrowers import borrower_onboard_person

pytestmark = pytest.mark.django_db

BASE = "11010119900101123"
NATIONAL_ID = BASE + ric.calc_check_digit(BASE + "0")  # 110101199001011237
WRONG_CHECK = BASE + ("8" if NATIONAL_ID[-1] != "8" else "9")
MOBILE = "13812345678"


@pytest.fixture
def onboard(partner, start_date):
    def onboard(**changes) -> Borrower:
        fields = {
            "partner": partner,
            "name": "Li Si",
            "national_id": NATIONAL_ID,
            "mobile": MOBILE,
            "monthly_income": Decimal("15000"),
            "today": start_date,
        }
        return borrower_onboard_person(**{**fields, **changes})

    return onboard


def row_text(borrower: Borrower) -> str:
    """Every stored column of the borrower's row, and of its history rows, as one string."""
    values = list(Borrower.objects.filter(pk=borrower.pk).values().get().values())
    values += [value for row in Borrower.history.filter(id=borrower.pk).values() for value in row.values()]
    return " ".join(str(value) for value in values)


def test_onboarding_stores_the_national_id_encrypted_and_never_in_plain_text(onboard):
    borrower = onboard()

    stored = Borrower.objects.get(pk=borrower.pk)
    assert pii.decrypt(stored.national_id_encrypted) == NATIONAL_ID
    assert NATIONAL_ID not in row_text(borrower)
    assert MOBILE not in row_text(borrower)


def test_onboarding_keeps_a_masked_national_id_and_mobile_for_display(onboard):
    borrower = onboard()

    assert borrower.national_id_masked == "1101**********1237"
    assert borrower.mobile_masked == "+86 138****5678"


def test_a_borrower_is_found_by_the_hash_of_their_national_id(onboard):
    borrower = onboard()

    assert Borrower.objects.get(national_id_hash=pii.lookup_hash(NATIONAL_ID)) == borrower


def test_the_birth_date_is_taken_from_the_national_id(onboard):
    assert str(onboard().date_of_birth) == "1990-01-01"


def test_a_borrower_shows_only_the_masked_national_id(onboard):
    borrower = onboard()

    assert str(borrower) == "Li Si (1101**********1237)"
    assert NATIONAL_ID not in str(borrower)


def test_a_second_onboarding_of_the_same_national_id_is_refused(onboard):
    onboard()

    with pytest.raises(DomainError) as refused:
        onboard(name="Li Si again", mobile="13912345678")

    assert (refused.value.code, refused.value.field) == ("borrower_exists", "national_id")
    assert Borrower.objects.count() == 1


def test_the_same_national_id_is_refused_even_when_another_partner_brings_it(onboard, other_partner):
    onboard()

    with pytest.raises(DomainError) as refused:
        onboard(partner=other_partner)

    assert refused.value.code == "borrower_exists"
    assert Borrower.objects.count() == 1


def test_the_same_national_id_typed_differently_is_still_a_duplicate(onboard):
    onboard()

    with pytest.raises(DomainError) as refused:
        onboard(national_id=" 110101 19900101 1237 ")

    assert refused.value.code == "borrower_exists"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"national_id": WRONG_CHECK}, "national_id"),  # wrong check character
        ({"national_id": BASE}, "national_id"),  # 17 characters
        ({"national_id": ""}, "national_id"),
        ({"mobile": "1381234567"}, "mobile"),  # one digit short
        ({"mobile": "02112345678"}, "mobile"),  # a landline
        ({"mobile": "138-ABCD-5678"}, "mobile"),
        ({"name": "  "}, "name"),
        ({"monthly_income": Decimal("-1")}, "monthly_income"),
    ],
    ids=[
        "id-checksum",
        "id-length",
        "id-empty",
        "mobile-short",
        "landline",
        "mobile-letters",
        "name",
        "income",
    ],
)
def test_a_bad_identifier_is_refused_naming_the_field_and_nothing_is_written(onboard, changes, field):
    with pytest.raises(DomainError) as refused:
        onboard(**changes)

    assert refused.value.field == field
    assert not Borrower.objects.exists()
    assert not Borrower.history.exists()


def test_an_error_about_an_identifier_does_not_repeat_it(onboard):
    with pytest.raises(DomainError) as refused:
        onboard(national_id=WRONG_CHECK)

    assert WRONG_CHECK not in str(refused.value)
