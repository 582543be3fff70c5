"""Auto-debit: rounds of debit instructions for what is due, across the borrower's accounts in order."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction

from core.business_date import business_date_current
from lending.locking import loan_lock
from lending.models import Loan
from payments import selectors, tasks
from payments.gateways import gateway_get
from payments.gateways.base import ACCEPTED, Instruction, Report
from payments.models import Debit
from payments.plan import DebitSchedule, debit_amount, round_allowed
from payments.references import reference_new
from payments.services.disbursements import account_details
from payments.services.reports import report_apply

logger = logging.getLogger(__name__)
OPEN = [Loan.State.CURRENT, Loan.State.OVERDUE]


def debit_schedule() -> DebitSchedule:
    return DebitSchedule(
        rounds_per_day=settings.PAYMENTS_DEBIT_ROUNDS_PER_DAY, retry_days=settings.PAYMENTS_DEBIT_RETRY_DAYS
    )


def _debit_create(*, loan: Loan, account_id: int, today, round_number: int) -> Debit | None:
    """A pending debit for what is due less what is in flight, under the loan's lock; None when nothing is."""
    with transaction.atomic():
        _, loan = loan_lock(loan.pk)
        amount = debit_amount(
            due=selectors.loan_amount_due(loan_id=loan.pk), in_flight=selectors.debit_in_flight(loan_id=loan.pk)
        )
        if loan.state not in OPEN or amount <= 0:
            return None
        debit = Debit(
            loan=loan,
            account_id=account_id,
            reference=reference_new("A"),
            gateway=settings.PAYMENTS_DEBIT_GATEWAY,
            amount=amount,
            business_date=today,
            round=round_number,
        )
        debit._change_reason = f"auto-debit round {round_number}"
        debit.save()
        return debit


def debit_send(*, debit_id: int) -> Debit:
    """Instruct the gateway; a debit for more than is now due (paid elsewhere meanwhile) is cancelled instead."""
    with transaction.atomic():
        debit = Debit.objects.select_for_update(of=("self",)).select_related("account").get(pk=debit_id)
        if debit.state != Debit.State.PENDING:
            return debit
        due = selectors.loan_amount_due(loan_id=debit.loan_id)
        if debit.amount > due:
            debit.cancel()
            debit._change_reason = f"cancelled: {due} now due, less than the {debit.amount} asked"
            debit.save()
            return debit
        debit.send()
        debit._change_reason = "instructed"
        debit.save()
        instruction = Instruction(debit.reference, "debit", debit.amount, account_details(debit.account), 1)
    outcome = gateway_get(debit.gateway).instruct_debit(instruction)
    if outcome.status != ACCEPTED:
        report_apply(
            gateway_code=debit.gateway,
            report=Report(
                debit.reference, outcome.status, debit.amount, outcome.gateway_reference, reason=outcome.reason
            ),
            source="reply",
        )
    return Debit.objects.get(pk=debit_id)


def _loan_round(loan: Loan, today, schedule: DebitSchedule) -> str:
    """One round for one loan: accounts in order until one succeeds or answers later."""
    accounts = [account.pk for account in selectors.debit_accounts(borrower_id=loan.credit_line.borrower_id)]
    oldest_due = selectors.loan_oldest_due_date(loan_id=loan.pk)
    today_debits = Debit.objects.filter(loan=loan, business_date=today)
    rounds_done = max(today_debits.values_list("round", flat=True), default=0)
    if not accounts or oldest_due is None or selectors.debit_in_flight(loan_id=loan.pk) > 0:
        return "skipped"
    if not round_allowed(schedule=schedule, rounds_done_today=rounds_done, oldest_due=oldest_due, today=today):
        return "skipped"
    round_number = rounds_done + 1
    gateway = gateway_get(settings.PAYMENTS_DEBIT_GATEWAY)
    for account_id in accounts:
        debit = _debit_create(loan=loan, account_id=account_id, today=today, round_number=round_number)
        if debit is None:
            return "nothing_due"
        if not gateway.in_process:
            transaction.on_commit(lambda pk=debit.pk: tasks.debit_send_task.delay(pk))
            return "sent"
        debit = debit_send(debit_id=debit.pk)
        if debit.state != Debit.State.FAILED:
            return str(debit.state)
    return "failed"


def debit_round_run(*, today=None, loan_ids=None) -> dict:
    """Run one auto-debit round for every loan with something due (or for `loan_ids`)."""
    today = today or business_date_current()
    schedule = debit_schedule()
    # Only loans whose borrower has an account on the debit list and something fallen due inside the retry
    # window: the round's cost follows the day's collections, not the size of the book.
    loans = Loan.objects.filter(
        state__in=OPEN,
        installments__state__in=selectors.FALLEN_DUE,
        installments__due_date__gte=today - timedelta(days=schedule.retry_days),
        credit_line__borrower__payment_accounts__is_active=True,
        credit_line__borrower__payment_accounts__debit_priority__isnull=False,
    ).distinct()
    if loan_ids is not None:
        loans = loans.filter(pk__in=loan_ids)
    counts: dict[str, int] = {}
    for loan in loans.select_related("credit_line").order_by("pk"):
        try:
            result = _loan_round(loan, today, schedule)
        except Exception:
            # One loan's gateway error must not stop the round for the rest of the book.
            logger.exception("auto-debit round for loan %s failed", loan.pk)
            result = "errors"
        counts[result] = counts.get(result, 0) + 1
    return counts


@transaction.atomic
def debits_cancel_pending(*, loan_ids) -> int:
    """Cancel debits not yet sent for loans that owe less than they ask (paid through another route)."""
    cancelled = 0
    for debit in Debit.objects.select_for_update().filter(loan_id__in=loan_ids, state=Debit.State.PENDING):
        if debit.amount > selectors.loan_amount_due(loan_id=debit.loan_id):
            debit.cancel()
            debit._change_reason = "cancelled: paid through another route"
            debit.save()
            cancelled += 1
    return cancelled
