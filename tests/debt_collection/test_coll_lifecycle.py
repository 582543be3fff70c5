"""The case lifecycle driven by the close of day: open at DPD 1, follow the worst bucket, resolve on cure."""

from datetime import date, timedelta

from core.close import day_close, days_close_until
from debt_collection.models import CaseAssignment, CollectionCase
from lending.models import Loan
from lending.services.repayments import payoff_quote, repayment_post


def test_no_case_while_the_loan_is_current(loan, close_to):
    close_to(date(2031, 2, 16))  # closed through Feb 15, the due date: due, not yet overdue
    assert not CollectionCase.objects.exists()


def test_close_opens_a_case_at_one_day_past_due_and_assigns_it(loan, collector, close_to, case_of):
    close_to(date(2031, 2, 17))  # the close of Feb 16 makes the installment 1 day past due

    case = case_of(loan)
    assert (case.bucket, case.queue, case.opened_on) == ("M1", "early", date(2031, 2, 16))
    assert case.state == CollectionCase.State.ASSIGNED
    assert case.collector == collector
    assert CaseAssignment.objects.get(case=case).reason == "round-robin"


def test_the_case_follows_the_bucket_into_a_new_queue_and_a_new_collector(loan, make_collector, close_to, case_of):
    early = make_collector("early.one", queue="early")
    intensive = make_collector("intensive.one", queue="intensive")
    close_to(date(2031, 2, 17))
    assert case_of(loan).collector == early

    close_to(date(2031, 3, 19))  # the close of Mar 18 makes it 31 days past due: M2

    case = case_of(loan)
    assert (case.bucket, case.queue, case.collector) == ("M2", "intensive", intensive)
    reasons = list(CaseAssignment.objects.filter(case=case).values_list("reason", flat=True))
    assert reasons == ["round-robin", "moved to the intensive queue", "round-robin"]


def test_cure_by_repayment_resolves_the_case_at_the_close(loan, collector, close_to, case_of):
    close_to(date(2031, 2, 20))
    case = case_of(loan)
    overdue = sum(i.unpaid for i in loan.installments.filter(state="overdue"))
    repayment_post(loan_id=loan.pk, amount=overdue)
    day_close(business_date=date(2031, 2, 20))

    case.refresh_from_db()
    assert case.state == CollectionCase.State.RESOLVED
    assert case.closed_on == date(2031, 2, 20)
    assert Loan.objects.get(pk=loan.pk).state == Loan.State.CURRENT


def test_a_borrower_late_again_gets_a_new_case(loan, collector, close_to, case_of):
    close_to(date(2031, 2, 20))
    first = case_of(loan)
    repayment_post(loan_id=loan.pk, amount=sum(i.unpaid for i in loan.installments.filter(state="overdue")))
    close_to(date(2031, 3, 18))  # the second installment (Mar 15) is 2 days late after the close of Mar 17

    second = case_of(loan)
    assert second.pk != first.pk
    assert second.opened_on == date(2031, 3, 16)


def test_write_off_marks_the_case_written_off(loan, close_to, case_of):
    close_to(date(2031, 2, 17))
    case = case_of(loan)
    close_to(date(2031, 8, 15))  # 180 days after Feb 15: the close of Aug 14 writes it off

    case.refresh_from_db()
    assert Loan.objects.get(pk=loan.pk).state == Loan.State.WRITTEN_OFF
    assert case.state == CollectionCase.State.WRITTEN_OFF
    assert case.bucket == "M6"


def test_close_rerun_changes_nothing(loan, collector, close_to):
    from core.models import CloseStepRun

    close_to(date(2031, 2, 16))
    days_close_until(until=date(2031, 2, 16))
    CloseStepRun.objects.filter(business_date=date(2031, 2, 16), step__startswith="collections.").delete()
    from debt_collection.close import assign, cases_sync, promises_settle

    before = list(CollectionCase.objects.values())
    for step in (promises_settle, cases_sync, assign):
        step(business_date=date(2031, 2, 16), progress=None)
    assert list(CollectionCase.objects.values()) == before
    assert CaseAssignment.objects.count() == 1


def test_payoff_after_the_case_resolves_it(loan, close_to, case_of):
    close_to(date(2031, 2, 18))
    case = case_of(loan)
    today = date(2031, 2, 18)
    repayment_post(
        loan_id=loan.pk, amount=payoff_quote(loan=Loan.objects.get(pk=loan.pk), on_date=today, today=today).amount
    )
    day_close(business_date=today)
    case.refresh_from_db()
    assert case.state == CollectionCase.State.RESOLVED
    assert case.closed_on == today + timedelta(days=0)


def test_a_quiet_day_reads_no_case(make_loan, collector, close_to, django_assert_max_num_queries):
    for _ in range(3):
        make_loan()
    close_to(date(2031, 2, 20))  # three open cases, all M1: nothing moves on Feb 20
    from debt_collection.close import cases_sync

    with django_assert_max_num_queries(3):
        assert cases_sync(business_date=date(2031, 2, 20), progress=None) == {
            "opened": 0, "moved": 0, "resolved": 0, "written_off": 0,
        }  # fmt: skip


def test_opening_many_cases_takes_a_fixed_number_of_queries(make_loan, close_to, django_assert_max_num_queries):
    from debt_collection.close import cases_sync
    from lending.models import LoanBucketChange

    for _ in range(5):
        make_loan()
    close_to(date(2031, 2, 16))
    days_close_until(until=date(2031, 2, 16))
    assert LoanBucketChange.objects.filter(business_date=date(2031, 2, 16)).count() == 5
    CollectionCase.objects.all().delete()
    with django_assert_max_num_queries(12):
        assert cases_sync(business_date=date(2031, 2, 16), progress=None)["opened"] == 5
