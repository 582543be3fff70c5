"""Reveal one borrower's personal data in clear: permission, reason and a log row, or nothing."""

from django.db import transaction

from core import pii
from core.errors import DomainError
from core.validation import text_required
from lending.models import Borrower
from workspace.models import PiiReveal

REVEAL_PERMISSION = "workspace.reveal_pii"
REASON_MAX_LENGTH = PiiReveal._meta.get_field("reason").max_length


def pii_fields_present(borrower: Borrower) -> list[str]:
    """The identifier fields this borrower has a stored value for."""
    return [name for name in PiiReveal.Field.values if getattr(borrower, f"{name}_encrypted")]


@transaction.atomic
def pii_reveal(*, user, borrower_id: int, field: str, reason: str) -> str:
    """Return one identifier of one borrower in clear and log who, what, which, when and why.

    The log row and the decryption share a transaction: no value is shown without its row.
    """
    if user is None or not user.is_active or not user.has_perm(REVEAL_PERMISSION):
        raise DomainError("forbidden", "revealing personal data needs the reveal_pii permission", field="user")
    reason = text_required(reason, field="reason", max_length=REASON_MAX_LENGTH)
    if field not in PiiReveal.Field.values:
        raise DomainError("invalid_field", f"must be one of {', '.join(PiiReveal.Field.values)}", field="field")
    borrower = Borrower.objects.filter(pk=borrower_id).first()
    if borrower is None:
        raise DomainError("not_found", "no such borrower", field="borrower")
    token = getattr(borrower, f"{field}_encrypted")
    if not token:
        raise DomainError("no_value", "this borrower has no value for this field", field="field")
    PiiReveal.objects.create(user=user, borrower=borrower, field=field, reason=reason)
    return pii.decrypt(token)
