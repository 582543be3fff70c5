"""What happens to loans and credit lines, announced after the transaction that did it commits.

Apps above lending (the partner API's webhooks) subscribe to these signals;
lending imports none of them. Each signal carries ids in bulk, so the close
of day sends one signal per chunk, never one per loan. Receivers run after
commit and cannot undo it: a failing receiver is logged, never raised into
the caller.
"""

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

loans_disbursed = Signal()  # loan_ids
loans_paid_off = Signal()  # loan_ids
loans_repaid = Signal()  # loan_ids: a repayment was posted (any channel)
loans_written_off = Signal()  # loan_ids
installments_overdue = Signal()  # installment_ids: installments that went overdue in one close chunk
credit_line_changes_recorded = Signal()  # change_ids: CreditLineChange rows


def send_on_commit(signal: Signal, **ids) -> None:
    """Send `signal` with `ids` once the current transaction commits; nothing when every list is empty."""
    if not any(ids.values()):
        return

    def send() -> None:
        for receiver, result in signal.send_robust(sender=None, **ids):
            if isinstance(result, Exception):
                logger.error("lending event receiver %r failed", receiver, exc_info=result)

    transaction.on_commit(send)
