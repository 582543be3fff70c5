"""Celery tasks of money movement: thin, idempotent (instructions are keyed by reference), acknowledged late.

The services import this module to queue work after commit, so each task
imports its service when it runs rather than at module load (a cycle otherwise).
"""

from celery import shared_task


@shared_task(acks_late=True)
def disbursement_send_task(disbursement_id: int) -> None:
    from payments.services.disbursements import disbursement_send

    disbursement_send(disbursement_id=disbursement_id)


@shared_task(acks_late=True)
def disbursements_chase_task() -> dict:
    from payments.services.disbursements import disbursements_chase

    return disbursements_chase()


@shared_task(acks_late=True)
def debit_send_task(debit_id: int) -> None:
    from payments.services.debits import debit_send

    debit_send(debit_id=debit_id)


@shared_task(acks_late=True)
def debit_round_task() -> dict:
    from payments.services.debits import debit_round_run

    return debit_round_run()
