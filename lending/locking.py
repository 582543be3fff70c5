"""The one way lending services lock rows: credit line, then loan, then installments by number.

A fixed order means two services can never wait on each other in a cycle.
"""

from lending.models import CreditLine, Installment, Loan


def credit_line_lock(credit_line_id: int) -> CreditLine:
    return CreditLine.objects.select_for_update().select_related("product").get(pk=credit_line_id)


def loan_lock(loan_id: int) -> tuple[CreditLine, Loan]:
    """Lock a loan and, first, its credit line."""
    credit_line = CreditLine.objects.select_for_update(of=("self",)).select_related("product").get(loans=loan_id)
    loan = Loan.objects.select_for_update().get(pk=loan_id)
    return credit_line, loan


def installments_lock(loan: Loan) -> list[Installment]:
    return list(Installment.objects.select_for_update().filter(loan=loan).order_by("number"))
