"""Money movement's close-of-day steps.

- `payments.chase_disbursements` (order 50): disbursements with no answer are
  re-instructed or, after the last attempt, failed (loan cancelled), before
  the day's loans are accrued.
- `payments.auto_debit` (order 150): after lending has made the day's
  installments fall due, the first auto-debit round goes out for what is due;
  later rounds run from `run_auto_debit` (Celery beat or cron) during the day.
"""

from core.close import close_step
from payments.services.debits import debit_round_run
from payments.services.disbursements import disbursements_chase


@close_step("payments.chase_disbursements", order=50)
def chase_disbursements(*, business_date, progress):
    return disbursements_chase()


@close_step("payments.auto_debit", order=150)
def auto_debit(*, business_date, progress):
    return debit_round_run(today=business_date)
