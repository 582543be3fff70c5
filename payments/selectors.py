"""Reads of money movement shared by services, views and the admin."""

from decimal import Decimal

from django.db.models import Min, Sum

from core.money import ZERO
from lending.models import Installment
from payments.models import Debit, PaymentAccount

FALLEN_DUE = [Installment.State.DUE, Installment.State.OVERDUE]


def loan_amount_due(*, loan_id: int) -> Decimal:
    """Everything fallen due and unpaid on the loan (what an auto-debit may collect)."""
    return sum((row.unpaid for row in Installment.objects.filter(loan_id=loan_id, state__in=FALLEN_DUE)), ZERO)


def loan_oldest_due_date(*, loan_id: int):
    return Installment.objects.filter(loan_id=loan_id, state__in=FALLEN_DUE).aggregate(d=Min("due_date"))["d"]


def debit_in_flight(*, loan_id: int) -> Decimal:
    pending = Debit.objects.filter(loan_id=loan_id, state__in=[Debit.State.PENDING, Debit.State.SENT])
    return pending.aggregate(total=Sum("amount"))["total"] or ZERO


def debit_accounts(*, borrower_id: int) -> list[PaymentAccount]:
    return list(
        PaymentAccount.objects.filter(borrower_id=borrower_id, is_active=True, debit_priority__isnull=False).order_by(
            "debit_priority"
        )
    )


def payment_accounts(*, borrower_id: int):
    return PaymentAccount.objects.filter(borrower_id=borrower_id).order_by("pk")
