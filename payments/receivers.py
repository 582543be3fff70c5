"""Lending events that money movement reacts to: a repayment from another route cancels pending debits."""

from django.dispatch import receiver

from lending import events


@receiver(events.loans_repaid, dispatch_uid="payments.cancel_pending_debits")
def _cancel_pending_debits(sender, *, loan_ids, **kwargs):
    from payments.services.debits import debits_cancel_pending

    debits_cancel_pending(loan_ids=loan_ids)
