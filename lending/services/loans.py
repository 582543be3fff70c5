"""Drawdowns on a credit line, disbursement and cancellation of loans."""

import uuid
from datetime import date
from decimal import Decimal

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from core.business_date import REASON_MAX_LENGTH, business_date_for_write
from core.errors import DomainError
from core.validation import amount_positive, text_required
from ledger.services import entry_post
from lending import events, extensions, postings
from lending.locking import credit_line_lock, loan_lock
from lending.models import CreditLine, Installment, Loan, Product
from lending.positions import line_used_add
from lending.quotes import Quote, quote_build
from lending.schedules import RepaymentMethod


def _check_drawdown_terms(product: Product, amount, term_months, method) -> tuple[Decimal, int, RepaymentMethod]:
    amount = amount_positive(amount, field="amount")
    if amount < product.min_drawdown:
        raise DomainError("below_minimum_drawdown", f"must be at least {product.min_drawdown}", field="amount")
    if amount % product.drawdown_multiple != 0:
        raise DomainError("not_a_multiple", f"must be a multiple of {product.drawdown_multiple}", field="amount")
    if not isinstance(term_months, int) or isinstance(term_months, bool) or term_months not in product.terms:
        raise DomainError("term_not_offered", f"must be one of {product.terms} months", field="term_months")
    if method not in product.methods:
        raise DomainError("method_not_offered", f"must be one of {', '.join(product.methods)}", field="method")
    return amount, term_months, RepaymentMethod(method)


def _priced_quote(credit_line: CreditLine, *, amount, term_months, method, start_date) -> tuple[Quote, Decimal]:
    """The quote with the product's fee and any insurance premium in the fee column, and the premium rate."""
    product = credit_line.product
    amount, term_months, method = _check_drawdown_terms(product, amount, term_months, method)
    premium_rate = extensions.premium_rate_for(credit_line=credit_line, on_date=start_date)
    quote = quote_build(
        principal=amount,
        daily_rate=credit_line.daily_rate,
        method=method,
        term_months=term_months,
        start_date=start_date,
        monthly_fee_rate=product.monthly_fee_rate + premium_rate,
    )
    if quote.apr.nominal_annual_rate > product.apr_cap:
        premium = f" (insurance premium {premium_rate:.2%}/month included)" if premium_rate else ""
        raise DomainError(
            "apr_above_cap",
            f"all-in APR {quote.apr.nominal_annual_rate:.2%}{premium} exceeds the product cap {product.apr_cap:.2%}",
            field="daily_rate",
        )
    return quote, premium_rate


def drawdown_quote(*, credit_line: CreditLine, amount, term_months, method, start_date) -> Quote:
    """The schedule and all-in APR a drawdown would have; refused above the product's APR cap."""
    quote, _ = _priced_quote(credit_line, amount=amount, term_months=term_months, method=method, start_date=start_date)
    return quote


def _draw(line: CreditLine, today: date, *, amount, term_months, method, idempotency_key: str, pay_out: bool) -> Loan:
    """A drawdown on a locked line; with `pay_out` the loan is disbursed in the same step."""
    if idempotency_key:
        existing = Loan.objects.filter(credit_line=line, idempotency_key=idempotency_key).first()
        if existing:
            if (
                existing.principal != amount_positive(amount, field="amount")
                or existing.term_months != term_months
                or existing.method != method
            ):
                raise DomainError(
                    "idempotency_conflict", "this key was used for another drawdown", field="idempotency_key"
                )
            return existing
    if line.state != CreditLine.State.ACTIVE:
        raise DomainError("line_not_active", f"the credit line is {line.state}", field="credit_line")
    if not line.valid_from <= today <= line.valid_until:
        raise DomainError("line_expired", "the credit line is not valid today", field="credit_line")
    quote, premium_rate = _priced_quote(line, amount=amount, term_months=term_months, method=method, start_date=today)
    principal = quote.totals.principal
    if principal > line.available:
        raise DomainError("exceeds_available_limit", f"exceeds the available limit {line.available}", field="amount")
    loan = Loan(
        number=f"LN{uuid.uuid4().hex[:14].upper()}",
        credit_line=line,
        principal=principal,
        term_months=term_months,
        method=method,
        daily_rate=line.daily_rate,
        monthly_fee_rate=line.product.monthly_fee_rate + premium_rate,
        monthly_premium_rate=premium_rate,
        nominal_apr=quote.apr.nominal_annual_rate,
        effective_apr=quote.apr.effective_annual_rate,
        requested_on=today,
        idempotency_key=idempotency_key,
        penalty_multiplier=line.product.penalty_multiplier,
        grace_days=line.product.grace_days,
        allocation=line.product.allocation,
        component_order=line.product.component_order,
        prepayment=line.product.prepayment,
        residue_tolerance=line.product.residue_tolerance,
    )
    if pay_out:
        _pay_out(loan, quote, today)
    else:
        loan._change_reason = "drawdown"
        loan.save()
    line_used_add(line, principal)
    return loan


def _pay_out(loan: Loan, quote: Quote, today: date) -> None:
    """Disburse (saving the loan): installments from the quote, principal receivable against cash.

    The loan is disbursed on the quote's start date (the value date), posted on the business date.
    """
    loan.disburse()
    loan.disbursed_on = quote.lines[0].start_date
    loan.principal_outstanding = loan.principal
    loan._change_reason = "disbursed"
    loan.save()
    bulk_create_with_history(
        [
            Installment(
                loan=loan,
                number=line.number,
                start_date=line.start_date,
                due_date=line.due_date,
                principal=line.principal,
                interest=line.interest,
                fee=line.fee,
                accrual_start=line.start_date,
            )
            for line in quote.lines
        ],
        Installment,
        default_change_reason="disbursed",
    )
    entry_post(
        draft=postings.disbursement_draft(loan_id=loan.pk, number=loan.number, principal=loan.principal),
        business_date=today,
    )
    extensions.loan_disbursed(loan=loan, today=today)
    events.send_on_commit(events.loans_disbursed, loan_ids=[loan.pk])


@transaction.atomic
def loan_drawdown(
    *,
    credit_line_id: int,
    amount,
    term_months,
    method,
    idempotency_key: str = "",
    disburse: bool = False,
    actor=None,
) -> Loan:
    """Draw on an active line; the loan waits for disbursement, or with `disburse` is paid out at once.

    The line row is locked, so concurrent drawdowns are serialised and the
    used amount never exceeds the limit. A repeated idempotency key returns
    the loan it created. Paying out in the same transaction (the partner
    API's drawdown until a payment gateway confirms disbursements) takes one
    lock of the line and one commit instead of two.
    """
    today = business_date_for_write()
    line = credit_line_lock(credit_line_id)
    return _draw(
        line,
        today,
        amount=amount,
        term_months=term_months,
        method=method,
        idempotency_key=idempotency_key,
        pay_out=disburse,
    )


@transaction.atomic
def loan_disburse(*, loan_id: int, value_date: date | None = None, actor=None) -> Loan:
    """Pay out a pending loan, its schedule starting on `value_date` (the date the money left; default today)."""
    today = business_date_for_write()
    line, loan = loan_lock(loan_id)
    if loan.state != Loan.State.PENDING:
        raise DomainError("loan_not_pending", f"the loan is {loan.state}", field="loan")
    value_date = today if value_date is None else value_date
    if not loan.requested_on <= value_date <= today:
        raise DomainError(
            "value_date_out_of_range", f"must be between {loan.requested_on} and {today}", field="value_date"
        )
    if line.state != CreditLine.State.ACTIVE:
        raise DomainError("line_not_active", f"no money goes out on a {line.state} credit line", field="loan")
    quote = quote_build(
        principal=loan.principal,
        daily_rate=loan.daily_rate,
        method=RepaymentMethod(loan.method),
        term_months=loan.term_months,
        start_date=value_date,
        monthly_fee_rate=loan.monthly_fee_rate,
    )
    _pay_out(loan, quote, today)
    return loan


@transaction.atomic
def loan_cancel(*, loan_id: int, reason: str, actor=None) -> Loan:
    """Cancel a loan not yet disbursed; its amount goes back to the line."""
    reason = text_required(reason, field="reason", max_length=REASON_MAX_LENGTH)
    line, loan = loan_lock(loan_id)
    if loan.state != Loan.State.PENDING:
        raise DomainError("loan_not_pending", f"only a pending loan can be cancelled; it is {loan.state}", field="loan")
    loan.cancel()
    loan._change_reason = reason
    loan.save()
    line_used_add(line, -loan.principal)
    return loan
