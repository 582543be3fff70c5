import datetime

import pytest
from stdnum.cn import ric, uscc

from core.errors import DomainError
from lending.identity import (
    mobile_mask,
    mobile_normalize,
    national_id_birth_date,
    national_id_mask,
    national_id_normalize,
    uscc_mask,
    uscc_normalize,
)


def national_id(first_17: str) -> str:
    """An id with the correct check character for its first 17 characters."""
    return first_17 + ric.calc_check_digit(first_17 + "0")


def credit_code(first_17: str) -> str:
    return first_17 + uscc.calc_check_digit(first_17)


def with_wrong_check_character(number: str, alphabet: str) -> str:
    return number[:-1] + next(c for c in alphabet if c != number[-1])


ID_HANGZHOU = national_id("33010219900101123")  # 330102199001011234
ID_ENDING_IN_X = national_id("11010519850315102")
ID_LEAP_DAY = national_id("11010119800229001")


# --- national id --------------------------------------------------------------


@pytest.mark.parametrize("number", [ID_HANGZHOU, ID_ENDING_IN_X, ID_LEAP_DAY])
def test_national_id_with_a_correct_checksum_is_accepted_unchanged(number):
    assert national_id_normalize(number) == number


def test_national_id_check_character_x_is_normalised_to_upper_case():
    assert ID_ENDING_IN_X.endswith("X")

    assert national_id_normalize(ID_ENDING_IN_X.lower()) == ID_ENDING_IN_X


def test_national_id_typed_with_spaces_or_full_width_digits_is_normalised():
    spaced = f" {ID_HANGZHOU[:6]} {ID_HANGZHOU[6:14]} {ID_HANGZHOU[14:]} "
    full_width = ID_HANGZHOU.translate(str.maketrans("0123456789", "０１２３４５６７８９"))

    assert national_id_normalize(spaced) == ID_HANGZHOU
    assert national_id_normalize(full_width) == ID_HANGZHOU


def test_national_id_with_a_wrong_checksum_is_refused_naming_the_field():
    wrong = with_wrong_check_character(ID_HANGZHOU, "0123456789X")

    with pytest.raises(DomainError) as caught:
        national_id_normalize(wrong)

    assert caught.value.code == "invalid_national_id"
    assert caught.value.field == "national_id"
    assert "checksum" in caught.value.message


def test_national_id_error_names_the_field_the_caller_gives():
    with pytest.raises(DomainError) as caught:
        national_id_normalize("123", field="guarantor_national_id")

    assert caught.value.field == "guarantor_national_id"


def test_national_id_with_an_impossible_birth_date_is_refused():
    february_30 = national_id("33010219900230123")

    with pytest.raises(DomainError, match="birth date") as caught:
        national_id_normalize(february_30)

    assert caught.value.field == "national_id"


def test_national_id_born_after_today_is_refused():
    born_2099 = national_id("33010220990101123")

    with pytest.raises(DomainError, match="birth date"):
        national_id_normalize(born_2099, today=datetime.date(2025, 1, 1))


def test_national_id_born_on_the_given_today_is_accepted():
    born = national_id("33010220250101123")

    assert national_id_normalize(born, today=datetime.date(2025, 1, 1)) == born


def test_national_id_with_an_unknown_region_code_is_refused():
    with pytest.raises(DomainError, match="region"):
        national_id_normalize(national_id("99010119900101123"))


@pytest.mark.parametrize(
    "number",
    [
        ID_HANGZHOU[:-1],  # 17 characters
        ID_HANGZHOU + "0",  # 19 characters
        "330102900101123",  # the old 15-digit form
    ],
)
def test_national_id_of_the_wrong_length_is_refused(number):
    with pytest.raises(DomainError, match="18 characters") as caught:
        national_id_normalize(number)

    assert caught.value.code == "invalid_national_id"
    assert caught.value.field == "national_id"


def test_national_id_with_a_letter_before_the_check_character_is_refused():
    with pytest.raises(DomainError, match="17 digits"):
        national_id_normalize("3301021990010112X4")


@pytest.mark.parametrize("value", ["", "   ", None])
def test_missing_national_id_is_refused_as_required(value):
    with pytest.raises(DomainError, match="required") as caught:
        national_id_normalize(value)

    assert caught.value.field == "national_id"


def test_national_id_error_messages_do_not_repeat_the_value():
    wrong = with_wrong_check_character(ID_HANGZHOU, "0123456789X")

    with pytest.raises(DomainError) as caught:
        national_id_normalize(wrong)

    assert wrong not in str(caught.value)
    assert wrong[:14] not in str(caught.value)


def test_national_id_birth_date_is_read_from_the_id():
    assert national_id_birth_date(ID_HANGZHOU) == datetime.date(1990, 1, 1)
    assert national_id_birth_date(ID_LEAP_DAY) == datetime.date(1980, 2, 29)


def test_national_id_birth_date_of_an_invalid_id_is_refused():
    with pytest.raises(DomainError) as caught:
        national_id_birth_date("330102199002301233")

    assert caught.value.code == "invalid_national_id"


# --- mobile -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+86-13812345678",
        "008613812345678",
        "(+86) 138 1234 5678",
        "１３８１２３４５６７８",
    ],
)
def test_mobile_written_in_the_usual_ways_is_normalised_to_e164(value):
    assert mobile_normalize(value) == "+8613812345678"


@pytest.mark.parametrize("value", ["19912345678", "17012345678", "15912345678"])
def test_mobiles_of_other_carrier_prefixes_are_accepted(value):
    assert mobile_normalize(value) == "+86" + value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("010-12345678", "landline"),  # Beijing fixed line
        ("+86 21 6123 4567", "landline"),  # Shanghai fixed line
        ("1381234567", "not a valid"),  # one digit short
        ("138123456789", "not a valid"),  # one digit long
        ("12345", "not a valid"),
        ("+1 202 555 0123", r"mainland China \(\+86\)"),  # US
        ("+852 9123 4567", r"mainland China \(\+86\)"),  # Hong Kong mobile
        ("138-ABCD-5678", "only digits"),  # would parse as a vanity number
        ("13812345678 ext 12", "only digits"),
    ],
)
def test_number_that_is_not_a_china_mobile_is_refused(value, reason):
    with pytest.raises(DomainError, match=reason) as caught:
        mobile_normalize(value)

    assert caught.value.code == "invalid_mobile"
    assert caught.value.field == "mobile"


def test_mobile_error_names_the_field_the_caller_gives():
    with pytest.raises(DomainError) as caught:
        mobile_normalize("010-12345678", field="contact_phone")

    assert caught.value.field == "contact_phone"


@pytest.mark.parametrize("value", ["", " ", None])
def test_missing_mobile_is_refused_as_required(value):
    with pytest.raises(DomainError, match="required"):
        mobile_normalize(value)


# --- unified social credit code -----------------------------------------------


@pytest.mark.parametrize("first_17", ["91330106MA2AB1234", "91110000100000000", "12100000400000000"])
def test_credit_code_with_a_correct_check_character_is_accepted(first_17):
    code = credit_code(first_17)

    assert uscc_normalize(code) == code


def test_credit_code_is_normalised_to_upper_case_without_separators():
    code = credit_code("91330106MA2AB1234")

    assert uscc_normalize(f" {code[:8]}-{code[8:].lower()} ") == code


def test_credit_code_with_a_wrong_check_character_is_refused_naming_the_field():
    wrong = with_wrong_check_character(credit_code("91330106MA2AB1234"), "0123456789ABC")

    with pytest.raises(DomainError, match="checksum") as caught:
        uscc_normalize(wrong)

    assert caught.value.code == "invalid_credit_code"
    assert caught.value.field == "credit_code"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("91330106MA2AB123", "18 characters"),
        ("9133010AMA2AB12340", "8 digits"),  # letter in the registration-authority part
        ("91330106MA2IB12340", "8 digits"),  # I is not in the alphabet
    ],
)
def test_malformed_credit_code_is_refused(value, reason):
    with pytest.raises(DomainError, match=reason) as caught:
        uscc_normalize(value, field="partner_credit_code")

    assert caught.value.field == "partner_credit_code"


# --- display masks ------------------------------------------------------------


def test_national_id_mask_shows_the_first_and_last_four():
    assert national_id_mask("330102199001011234") == "3301**********1234"


def test_mobile_mask_keeps_country_code_first_three_and_last_four():
    assert mobile_mask("+8613812345678") == "+86 138****5678"


def test_mobile_mask_reads_a_number_stored_without_country_code():
    assert mobile_mask("13812345678") == "+86 138****5678"


def test_mobile_mask_of_an_unreadable_value_still_hides_it():
    assert mobile_mask("not a phone") == "*****hone"  # separators dropped, last 4 kept


def test_credit_code_mask_shows_the_first_and_last_four():
    assert uscc_mask("91330106MA2AB1234G") == "9133**********234G"
