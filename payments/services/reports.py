"""Applying what a gateway reports about an instruction: exactly one effect, whatever the order or repeats.

Every report (a callback, a synchronous reply, a partner's report, a chase
giving up) goes through `report_apply`, which locks the instruction row and
decides from its state: the first final answer takes effect; a repeat of it
is a duplicate; a contradiction of it is stale (failure after confirmation)
or a conflict (confirmation after failure, or for a loan cancelled
meanwhile) flagged for review, never posted. Each report is logged.
"""

from datetime import date

from django.db import transaction

from core.business_date import business_date_for_write
from core.errors import DomainError
from lending.models import Loan, Repayment
from lending.services.loans import loan_cancel, loan_disburse
from lending.services.repayments import repayment_post
from payments.gateways.base import CONFIRMED, Report
from payments.models import CallbackLog, Debit, Disbursement

MAX_LOGGED_BODY = 4000
Outcome = CallbackLog.Outcome


def _loggable(text: str) -> str:
    """What a sender wrote, storable as text: PostgreSQL refuses NUL characters, so they become U+FFFD."""
    return text.replace("\x00", "\ufffd")


def _loggable_body(body: bytes) -> str:
    return _loggable(body[:MAX_LOGGED_BODY].decode("utf-8", errors="replace"))


def callback_refused_record(
    *, gateway_code: str, source: str, code: str, reason: str, body: bytes = b""
) -> CallbackLog:
    """Record a report we refused before reading it (bad signature, malformed body, unknown gateway)."""
    return CallbackLog.objects.create(
        gateway=_loggable(gateway_code[:30]),
        source=source,
        outcome=Outcome.REFUSED,
        detail=_loggable(f"{code}: {reason}"[:300]),
        body=_loggable_body(body),
    )


def _value_date(loan: Loan, reported: date | None, today: date) -> tuple[date, str]:
    """The schedule's start: the reported value date, kept within [requested on, today]."""
    if reported is None:
        return today, ""
    clamped = min(max(reported, loan.requested_on), today)
    note = "" if clamped == reported else f"; reported value date {reported} taken as {clamped}"
    return clamped, note


def _flag(instruction, note: str) -> None:
    instruction.needs_review = True
    instruction.review_note = note[:300]
    instruction._change_reason = "flagged for review"
    instruction.save()


def _disbursement_apply(disbursement: Disbursement, report: Report) -> tuple[str, str]:
    state = disbursement.state
    if state in (Disbursement.State.CONFIRMED, Disbursement.State.FAILED):
        if (state == Disbursement.State.CONFIRMED) == (report.status == CONFIRMED):
            return Outcome.DUPLICATE, f"already {state}"
        if state == Disbursement.State.CONFIRMED:
            _flag(disbursement, "a failure was reported after the confirmation: check with the gateway")
            return Outcome.STALE, "failure after confirmation: the loan stays disbursed; flagged for review"
        _flag(disbursement, "confirmed after we recorded a failure: money may be out with the loan cancelled")
        return Outcome.CONFLICT, "confirmation after failure: the loan stays cancelled; flagged for review"
    disbursement.gateway_reference = report.gateway_reference or disbursement.gateway_reference
    loan = disbursement.loan
    if report.status != CONFIRMED:
        disbursement.fail()
        disbursement.failure_reason = report.reason[:200] or "failed at the gateway"
        disbursement._change_reason = "gateway: failed"
        disbursement.save()
        if loan.state == Loan.State.PENDING:
            loan_cancel(loan_id=loan.pk, reason=f"disbursement failed: {disbursement.failure_reason}"[:200])
            return Outcome.APPLIED, "failed; loan cancelled, limit freed"
        return Outcome.APPLIED, f"failed; the loan was already {loan.state}"
    today = business_date_for_write()
    value_date, note = _value_date(loan, report.value_date, today)
    disbursement.confirm()
    disbursement.value_date = value_date
    disbursement._change_reason = "gateway: confirmed"
    disbursement.save()
    if loan.state != Loan.State.PENDING:
        _flag(disbursement, f"confirmed for a loan that is {loan.state}: money is out with no loan behind it")
        return Outcome.CONFLICT, f"late confirmation for a {loan.state} loan; flagged for review"
    try:
        with transaction.atomic():
            loan_disburse(loan_id=loan.pk, value_date=value_date)
    except DomainError as error:
        _flag(disbursement, f"confirmed but the loan could not be disbursed: {error}")
        return Outcome.CONFLICT, f"loan not disbursed ({error.code}); flagged for review"
    return Outcome.APPLIED, f"confirmed; loan disbursed on {value_date}{note}"


def _debit_apply(debit: Debit, report: Report) -> tuple[str, str]:
    state = debit.state
    if state in (Debit.State.SUCCEEDED, Debit.State.FAILED, Debit.State.CANCELLED):
        if state != Debit.State.CANCELLED and (state == Debit.State.SUCCEEDED) == (report.status == CONFIRMED):
            return Outcome.DUPLICATE, f"already {state}"
        if report.status != CONFIRMED:
            return Outcome.STALE, f"failure reported for a debit already {state}; no effect"
        _flag(debit, f"money collected for a debit already {state}: refund or apply by hand")
        return Outcome.CONFLICT, f"success reported for a debit already {state}; flagged for review"
    debit.gateway_reference = report.gateway_reference or debit.gateway_reference
    if report.status != CONFIRMED:
        debit.fail()
        debit.failure_reason = report.reason[:200] or "failed at the gateway"
        debit._change_reason = "gateway: failed"
        debit.save()
        return Outcome.APPLIED, "failed; retried on the debit schedule"
    debit.succeed()
    debit._change_reason = "gateway: succeeded"
    try:
        with transaction.atomic():
            debit.repayment = repayment_post(
                loan_id=debit.loan_id,
                amount=debit.amount,
                channel=Repayment.Channel.AUTO_DEBIT,
                source_reference=debit.gateway_reference or debit.reference,
                idempotency_key=f"debit:{debit.reference}",
            )
    except DomainError as error:
        debit.save()
        _flag(debit, f"collected but not applied ({error}): refund the borrower or apply by hand")
        return Outcome.CONFLICT, f"collected but the repayment was refused ({error.code}); flagged for review"
    debit.save()
    return Outcome.APPLIED, f"succeeded; repayment {debit.repayment_id} posted"


@transaction.atomic
def report_apply(*, gateway_code: str, report: Report, source: str, body: bytes = b"") -> CallbackLog:
    """Apply one report to the instruction it names, under that instruction's row lock, and log it.

    The instruction row is locked before the loan (then its line and
    installments, in lending's order), the same order every payments path uses.
    """
    outcome, detail = Outcome.REFUSED, "unknown_reference: no instruction with this reference at this gateway"
    disbursement = (
        Disbursement.objects.select_for_update().filter(reference=report.reference, gateway=gateway_code).first()
    )
    debit = None
    if disbursement is None:
        debit = Debit.objects.select_for_update().filter(reference=report.reference, gateway=gateway_code).first()
    instruction = disbursement or debit
    if instruction is not None and instruction.amount != report.amount:
        outcome = Outcome.REFUSED
        detail = f"amount_mismatch: reported {report.amount}, instructed {instruction.amount}"
    elif disbursement is not None:
        outcome, detail = _disbursement_apply(disbursement, report)
    elif debit is not None:
        outcome, detail = _debit_apply(debit, report)
    return CallbackLog.objects.create(
        gateway=gateway_code,
        source=source,
        reference=report.reference,
        gateway_reference=report.gateway_reference,
        status=report.status,
        outcome=outcome,
        detail=_loggable(detail[:300]),
        body=_loggable_body(body),
    )
