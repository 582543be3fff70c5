"""Disbursement instructions: a drawdown creates one; the loan is paid out only when the gateway confirms."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import pii
from core.errors import DomainError
from lending.models import Loan
from lending.services.loans import loan_drawdown
from payments import tasks
from payments.gateways import gateway_get
from payments.gateways.base import ACCEPTED, CONFIRMED, FAILED, AccountDetails, Instruction, Report
from payments.models import CallbackLog, Disbursement, PaymentAccount
from payments.references import reference_new
from payments.services.reports import report_apply

logger = logging.getLogger(__name__)


def account_details(account: PaymentAccount | None) -> AccountDetails | None:
    if account is None:
        return None
    return AccountDetails(account.kind, account.bank, pii.decrypt(account.number_encrypted), account.holder_name)


class _NotPaidInRequest(Exception):
    """The in-process gateway did not confirm at once: undo the booking and take the general path."""

    def __init__(self, reference: str):
        self.reference = reference


@transaction.atomic
def drawdown_disburse(
    *, credit_line_id: int, amount, term_months, method, idempotency_key: str = "", actor=None
) -> Loan:
    """Draw on the line and instruct the gateway to pay the loan out.

    A network gateway is instructed after commit; the loan stays pending
    until it confirms. An in-process gateway (the simulated one) answers
    in this transaction: a same-day confirmation pays the loan out as it is
    drawn, any other answer goes through the lifecycle below with the same
    reference. A repeated idempotency key returns the loan without a second
    instruction.
    """
    terms = {"credit_line_id": credit_line_id, "amount": amount, "term_months": term_months, "method": method}
    gateway = gateway_get(settings.PAYMENTS_DISBURSEMENT_GATEWAY)
    reference = None
    if gateway.in_process and not _replayed(credit_line_id, idempotency_key):
        try:
            return _drawdown_paid_in_request(gateway, terms=terms, idempotency_key=idempotency_key, actor=actor)
        except _NotPaidInRequest as not_paid:
            reference = not_paid.reference
    loan = loan_drawdown(**terms, idempotency_key=idempotency_key, actor=actor)
    if loan.state != Loan.State.PENDING or Disbursement.objects.filter(loan=loan).exists():
        return loan
    disbursement = disbursement_create(loan=loan, reference=reference)
    if gateway.in_process:
        disbursement_send(disbursement_id=disbursement.pk)
    else:
        transaction.on_commit(lambda: tasks.disbursement_send_task.delay(disbursement.pk))
    loan.refresh_from_db()
    return loan


def _replayed(credit_line_id: int, idempotency_key: str) -> bool:
    return (
        bool(idempotency_key)
        and Loan.objects.filter(credit_line_id=credit_line_id, idempotency_key=idempotency_key).exists()
    )


@transaction.atomic
def _drawdown_paid_in_request(gateway, *, terms: dict, idempotency_key: str, actor) -> Loan:
    """Book the loan disbursed, then ask the in-process gateway; anything but a same-day confirmation undoes it.

    Asking after booking is safe only because an in-process gateway has no
    effect outside this transaction. It spares the pending loan's own save,
    the second lock and save of the loan, and two of the instruction's three
    saves: a third of a drawdown's time.
    """
    loan = loan_drawdown(**terms, idempotency_key=idempotency_key, disburse=True, actor=actor)
    if Disbursement.objects.filter(loan=loan).exists():
        return loan  # a concurrent request with the same key got here first
    disbursement = disbursement_new(loan=loan)
    disbursement.attempts = 1
    disbursement.last_attempt_at = timezone.now()
    outcome = gateway.instruct_disbursement(_instruction(disbursement))
    if outcome.status != CONFIRMED or outcome.value_date not in (None, loan.disbursed_on):
        raise _NotPaidInRequest(disbursement.reference)
    disbursement.send()
    disbursement.confirm()
    disbursement.gateway_reference = outcome.gateway_reference
    disbursement.value_date = loan.disbursed_on
    disbursement._change_reason = "instructed and confirmed in the request"
    disbursement.save()
    CallbackLog.objects.create(
        gateway=disbursement.gateway,
        source="reply",
        reference=disbursement.reference,
        gateway_reference=outcome.gateway_reference,
        status=CONFIRMED,
        outcome=CallbackLog.Outcome.APPLIED,
        detail=f"confirmed; loan disbursed on {loan.disbursed_on}",
    )
    return loan


def disbursement_new(*, loan: Loan, reference: str | None = None) -> Disbursement:
    """The (unsaved) instruction for a loan, to the borrower's disbursement account (if one is on file)."""
    account = PaymentAccount.objects.filter(
        borrower_id=loan.credit_line.borrower_id, for_disbursement=True, is_active=True
    ).first()
    if account is None and settings.PAYMENTS_REQUIRE_DISBURSEMENT_ACCOUNT:
        raise DomainError("no_disbursement_account", "the borrower has no account for disbursement", field="account")
    return Disbursement(
        loan=loan,
        reference=reference or reference_new("D"),
        gateway=settings.PAYMENTS_DISBURSEMENT_GATEWAY,
        account=account,
        amount=loan.principal,
    )


def disbursement_create(*, loan: Loan, reference: str | None = None) -> Disbursement:
    """The instruction for a pending loan, saved pending."""
    disbursement = disbursement_new(loan=loan, reference=reference)
    disbursement._change_reason = "drawdown"
    disbursement.save()
    return disbursement


def _instruction(disbursement: Disbursement) -> Instruction:
    return Instruction(
        reference=disbursement.reference,
        kind="disbursement",
        amount=disbursement.amount,
        account=account_details(disbursement.account),
        attempt=disbursement.attempts,
    )


def disbursement_send(*, disbursement_id: int) -> Disbursement:
    """Instruct (or re-instruct, with the same reference) the gateway; apply its answer like a callback.

    The attempt is recorded and committed before the gateway is called, so a
    network gateway is never called while a row lock is held; an in-process
    one runs inside the caller's transaction.
    """
    with transaction.atomic():
        disbursement = (
            Disbursement.objects.select_for_update(of=("self",)).select_related("account").get(pk=disbursement_id)
        )
        if disbursement.state not in (Disbursement.State.PENDING, Disbursement.State.SENT):
            return disbursement
        disbursement.attempts += 1
        disbursement.last_attempt_at = timezone.now()
        disbursement.send()
        disbursement._change_reason = f"instructed (attempt {disbursement.attempts})"
        disbursement.save()
        instruction = _instruction(disbursement)
    outcome = gateway_get(disbursement.gateway).instruct_disbursement(instruction)
    if outcome.status == ACCEPTED:
        if outcome.gateway_reference and not disbursement.gateway_reference:
            with transaction.atomic():
                locked = Disbursement.objects.select_for_update().get(pk=disbursement_id)
                locked.gateway_reference = outcome.gateway_reference
                locked._change_reason = "accepted by the gateway"
                locked.save()
        return Disbursement.objects.get(pk=disbursement_id)
    report_apply(
        gateway_code=disbursement.gateway,
        report=Report(
            disbursement.reference,
            outcome.status,
            disbursement.amount,
            outcome.gateway_reference,
            outcome.value_date,
            outcome.reason,
        ),
        source="reply",
    )
    return Disbursement.objects.get(pk=disbursement_id)


def disbursements_chase(*, now=None) -> dict:
    """Re-instruct disbursements with no answer after PAYMENTS_CHASE_AFTER; give up after PAYMENTS_MAX_ATTEMPTS.

    Giving up fails the instruction (the loan is cancelled, the limit freed).
    The same reference is reused on every attempt, so the gateway pays once
    at most; a confirmation arriving after we gave up is flagged for review.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.PAYMENTS_CHASE_AFTER_SECONDS)
    waiting = Disbursement.objects.filter(
        Q(last_attempt_at__lt=cutoff) | Q(last_attempt_at__isnull=True, created_at__lt=cutoff),
        state__in=[Disbursement.State.PENDING, Disbursement.State.SENT],
    ).values_list("pk", "reference", "gateway", "amount", "attempts")
    counts = {"resent": 0, "timed_out": 0, "errors": 0}
    for pk, reference, gateway, amount, attempts in waiting.order_by("pk"):
        try:
            if attempts >= settings.PAYMENTS_MAX_ATTEMPTS:
                reason = f"timed out: no answer after {attempts} attempts"
                report_apply(
                    gateway_code=gateway, report=Report(reference, FAILED, amount, reason=reason), source="chase"
                )
                counts["timed_out"] += 1
            else:
                disbursement_send(disbursement_id=pk)
                counts["resent"] += 1
        except Exception:
            # One unreachable gateway or broken row must not stop the chase of the others.
            logger.exception("chasing disbursement %s failed", reference)
            counts["errors"] += 1
    return counts
