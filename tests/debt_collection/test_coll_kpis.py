"""Collections KPIs: cure rate, roll rates, promise-kept rate, recoveries; the workbench queue order."""

import json
from datetime import date, datetime
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

from django.core.management import call_command

from core.close import day_close
from debt_collection.models import CollectionCase
from debt_collection.selectors import case_next_contact, case_queue, collections_kpis, roll_rates
from debt_collection.services import contact_attempt_log, promise_to_pay_record
from lending.models import Loan
from lending.services.repayments import repayment_post

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_cure_rate_and_promise_kept_rate_for_the_month(make_loan, collector, close_to, case_of):
    cured_loan, late_loan = make_loan(), make_loan()
    close_to(date(2031, 2, 18))
    promise_to_pay_record(case_id=case_of(cured_loan).pk, collector=collector, amount="100", due_date=date(2031, 2, 19))
    promise_to_pay_record(case_id=case_of(late_loan).pk, collector=collector, amount="100", due_date=date(2031, 2, 19))
    repayment_post(loan_id=cured_loan.pk, amount=sum(i.unpaid for i in cured_loan.installments.filter(state="overdue")))
    day_close(business_date=date(2031, 2, 18))
    day_close(business_date=date(2031, 2, 19))

    kpis = collections_kpis(as_of=date(2031, 2, 19))
    assert (kpis.cases_worked, kpis.cases_cured, kpis.cure_rate) == (2, 1, Decimal("0.5000"))
    assert (kpis.promises_kept, kpis.promises_broken, kpis.promise_kept_rate) == (1, 1, Decimal("0.5000"))


def test_roll_rates_month_over_month(make_loan, close_to):
    rolling, paying = make_loan(), make_loan()
    close_to(date(2031, 3, 1))  # both M1 at the end of February
    repayment_post(loan_id=paying.pk, amount=sum(i.unpaid for i in paying.installments.filter(state="overdue")))
    close_to(date(2031, 3, 21))  # the rolling loan is 33 days late by the close of Mar 20: M2

    rates = roll_rates(as_of=date(2031, 3, 20))
    assert rates["M1→M2"] == Decimal("0.5000")
    assert rates["M0→M1"] == Decimal("0.0000")
    assert Loan.objects.get(pk=rolling.pk).dpd_bucket == "M2"


def test_portfolio_report_has_a_collections_section(loan, close_to):
    close_to(date(2031, 2, 18))
    out = StringIO()
    call_command("portfolio_report", "--json", stdout=out)
    section = json.loads(out.getvalue())["collections"]
    assert section["cases_worked"] == 1
    assert "M1→M2" in section["roll_rates"]
    text = StringIO()
    call_command("portfolio_report", stdout=text)
    assert "cure rate" in text.getvalue()


def test_my_queue_puts_the_worst_bucket_and_the_largest_amount_first(make_loan, collector, close_to):
    small, large = make_loan(amount=Decimal("3000")), make_loan(amount=Decimal("20000"))
    close_to(date(2031, 2, 18))
    later = make_loan()  # disbursed Feb 18, due Mar 18: still M1 when the others are M2
    close_to(date(2031, 3, 21))
    order = [case.borrower_id for case in case_queue(collector=collector)]
    borrowers = [loan.credit_line.borrower_id for loan in (large, small, later)]
    assert order == borrowers
    assert case_queue(collector=collector)[0].amount_overdue > case_queue(collector=collector)[1].amount_overdue


def test_next_contact_time_after_the_third_connected_call(loan, collector, close_to, case_of):
    close_to(date(2031, 2, 18))
    case = case_of(loan)
    for hour in (9, 10, 11):
        contact_attempt_log(
            case_id=case.pk, collector=collector, channel="call", outcome="connected",
            attempted_at=datetime(2025, 6, 17, hour, tzinfo=SHANGHAI),
        )  # fmt: skip
    assert case_next_contact(case, now=datetime(2025, 6, 17, 12, tzinfo=SHANGHAI)) == datetime(
        2025, 6, 18, 8, tzinfo=SHANGHAI
    )
    assert case_next_contact(case, now=datetime(2025, 6, 18, 6, tzinfo=SHANGHAI)) == datetime(
        2025, 6, 18, 8, tzinfo=SHANGHAI
    )
    assert CollectionCase.objects.get(pk=case.pk).contact_attempts.count() == 3
