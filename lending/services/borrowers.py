"""Onboarding borrowers: validate identifiers, encrypt them, refuse duplicates."""

from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction

from core import pii
from core.errors import DomainError
from core.validation import amount_positive, text_required
from lending import identity
from lending.models import Borrower, Partner


def _sensitive(value: str, masker) -> dict[str, str]:
    return {"encrypted": pii.encrypt(value), "hash": pii.lookup_hash(value), "masked": masker(value)}


def _refuse_duplicate(**lookup) -> None:
    if Borrower.objects.filter(**lookup).exists():
        raise DomainError(
            "borrower_exists",
            "a borrower with this identifier is already onboarded",
            field=next(iter(lookup)).removesuffix("_hash"),
        )


def _create(**fields) -> Borrower:
    try:
        with transaction.atomic():
            borrower = Borrower(**fields)
            borrower.full_clean(exclude=["partner"])
            borrower.save()
            return borrower
    except IntegrityError:
        # Two onboardings of the same person raced; the constraint kept one.
        raise DomainError("borrower_exists", "a borrower with this identifier is already onboarded") from None


@transaction.atomic
def borrower_onboard_person(
    *,
    partner: Partner,
    name: str,
    national_id: str,
    mobile: str,
    monthly_income: Decimal | None,
    today: date,
    external_reference: str = "",
) -> Borrower:
    name = text_required(name, field="name", max_length=120)
    national_id = identity.national_id_normalize(national_id, today=today)
    mobile = identity.mobile_normalize(mobile)
    income = amount_positive(monthly_income, field="monthly_income") if monthly_income is not None else None
    nid = _sensitive(national_id, identity.national_id_mask)
    phone = _sensitive(mobile, identity.mobile_mask)
    _refuse_duplicate(national_id_hash=nid["hash"])
    return _create(
        partner=partner,
        kind=Borrower.Kind.PERSON,
        name=name,
        national_id_encrypted=nid["encrypted"],
        national_id_hash=nid["hash"],
        national_id_masked=nid["masked"],
        date_of_birth=identity.national_id_birth_date(national_id, today=today),
        monthly_income=income,
        mobile_encrypted=phone["encrypted"],
        mobile_hash=phone["hash"],
        mobile_masked=phone["masked"],
        external_reference=external_reference,
    )


@transaction.atomic
def borrower_onboard_business(
    *,
    partner: Partner,
    name: str,
    credit_code: str,
    mobile: str,
    legal_representative: str,
    business_type: str,
    business_start_date: date,
    today: date,
    external_reference: str = "",
) -> Borrower:
    name = text_required(name, field="name", max_length=120)
    credit_code = identity.uscc_normalize(credit_code)
    mobile = identity.mobile_normalize(mobile)
    legal_representative = text_required(legal_representative, field="legal_representative", max_length=120)
    business_type = text_required(business_type, field="business_type", max_length=60)
    if business_start_date > today:
        raise DomainError("date_in_future", "must not be in the future", field="business_start_date")
    code = _sensitive(credit_code, identity.uscc_mask)
    phone = _sensitive(mobile, identity.mobile_mask)
    _refuse_duplicate(credit_code_hash=code["hash"])
    return _create(
        partner=partner,
        kind=Borrower.Kind.BUSINESS,
        name=name,
        credit_code_encrypted=code["encrypted"],
        credit_code_hash=code["hash"],
        credit_code_masked=code["masked"],
        legal_representative=legal_representative,
        business_type=business_type,
        business_start_date=business_start_date,
        mobile_encrypted=phone["encrypted"],
        mobile_hash=phone["hash"],
        mobile_masked=phone["masked"],
        external_reference=external_reference,
    )
