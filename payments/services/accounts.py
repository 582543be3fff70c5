"""Payment accounts of a borrower: added with the number encrypted, the holder checked against the borrower."""

import re
import unicodedata

from django.db import transaction

from core import pii
from core.errors import DomainError
from core.validation import text_required
from lending.models import Borrower
from payments.models import PaymentAccount

_CARD_RE = re.compile(r"[0-9]{12,19}")
_WALLET_RE = re.compile(r"[A-Za-z0-9@._+-]{4,64}")
MAX_DEBIT_PRIORITY = 20


def _luhn_ok(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def account_number_normalise(*, kind: str, number) -> str:
    if not isinstance(number, str):
        raise DomainError("invalid_account_number", "must be a string", field="number")
    number = "".join(unicodedata.normalize("NFKC", number).split())
    if kind == PaymentAccount.Kind.BANK_CARD:
        if not _CARD_RE.fullmatch(number) or not _luhn_ok(number):
            raise DomainError(
                "invalid_account_number", "a bank card number is 12-19 digits passing Luhn", field="number"
            )
    elif not _WALLET_RE.fullmatch(number):
        raise DomainError("invalid_account_number", "a wallet account is 4-64 letters, digits or @._+-", field="number")
    return number


def _name_key(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


def _holder_matches(borrower: Borrower, holder_name: str) -> bool:
    names = {borrower.name}
    if borrower.kind == Borrower.Kind.BUSINESS and borrower.legal_representative:
        names.add(borrower.legal_representative)
    return _name_key(holder_name) in {_name_key(name) for name in names}


@transaction.atomic
def payment_account_add(
    *,
    borrower_id: int,
    kind: str,
    bank: str,
    number,
    holder_name: str,
    for_disbursement: bool = False,
    debit_priority: int | None = None,
    actor=None,
) -> PaymentAccount:
    """Add an account; taking the disbursement role or a debit position moves it from the account holding it.

    The holder must be the borrower (or, for a micro-business, its legal
    representative): money is never paid out to, or collected from, a third party.
    """
    if kind not in PaymentAccount.Kind.values:
        raise DomainError("invalid_choice", f"must be one of {', '.join(PaymentAccount.Kind.values)}", field="kind")
    bank = text_required(bank, field="bank", max_length=60)
    holder_name = text_required(holder_name, field="holder_name", max_length=120)
    number = account_number_normalise(kind=kind, number=number)
    if debit_priority is not None and (
        isinstance(debit_priority, bool)
        or not isinstance(debit_priority, int)
        or not 1 <= debit_priority <= MAX_DEBIT_PRIORITY
    ):
        raise DomainError("invalid_priority", f"must be 1-{MAX_DEBIT_PRIORITY}", field="debit_priority")
    # Locking the borrower serialises concurrent additions, so the role and priority moves below cannot race.
    borrower = Borrower.objects.select_for_update().get(pk=borrower_id)
    if not _holder_matches(borrower, holder_name):
        raise DomainError("holder_mismatch", "the account holder must be the borrower", field="holder_name")
    number_hash = pii.lookup_hash(f"{kind}:{number}")
    # Highest priority first, so pushing each one place down never meets a position still taken.
    accounts = sorted(
        PaymentAccount.objects.filter(borrower=borrower, is_active=True),
        key=lambda account: -(account.debit_priority or 0),
    )
    if PaymentAccount.objects.filter(borrower=borrower, number_hash=number_hash).exists():
        raise DomainError("account_exists", "this account is already on file for the borrower", field="number")
    for other in accounts:
        changed = False
        if for_disbursement and other.for_disbursement:
            other.for_disbursement, changed = False, True
        if debit_priority is not None and other.debit_priority is not None and other.debit_priority >= debit_priority:
            # Inserting at a position pushes the accounts at and after it one place down the list.
            other.debit_priority, changed = other.debit_priority + 1, True
        if changed:
            other._change_reason = "another account took its role"
            other.save()
    keep_start = 4 if kind == PaymentAccount.Kind.BANK_CARD else 2
    account = PaymentAccount(
        borrower=borrower,
        kind=kind,
        bank=bank,
        number_encrypted=pii.encrypt(number),
        number_hash=number_hash,
        number_masked=pii.mask(number, keep_start=keep_start, keep_end=4),
        holder_name=holder_name,
        for_disbursement=bool(for_disbursement),
        debit_priority=debit_priority,
    )
    account._change_reason = "account added"
    account.save()
    return account
