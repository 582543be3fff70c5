"""Contract terms fixed at drawdown; payments landing after the day's close; forward payoff quotes."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from core.business_date import business_date_current
from core.errors import DomainError
from core.progress import SilentProgress
from lending.close import accrue
from lending.models import Installment, Loan, Repayment
from lending.services.credit_lines import credit_line_freeze
from lending.services.loans import loan_disburse
from lending.services.repayments import payoff_quote, repayment_post, repayment_reverse

pytestmark = pytest.mark.django_db

FIRST_DUE = date(2031, 2, 15)


def first_installment(loan: Loan) -> Installment:
    return Installment.objects.get(loan=loan, number=1)


def test_editing_the_product_changes_new_loans_but_never_signed_ones(loan, product, make_loan, line):
    product.penalty_multiplier = Decimal("3.00")
    product.grace_days = 5
    product.save()

    signed = Loan.objects.get(pk=loan.pk)
    new = make_loan(line, Decimal("1000"))

    assert (signed.penalty_multiplier, signed.grace_days) == (Decimal("1.50"), 0)
    assert (new.penalty_multiplier, new.grace_days) == (Decimal("3.00"), 5)


def test_penalty_follows_the_signed_multiplier_after_the_product_changes(loan, product, skip_to, close_through):
    product.penalty_multiplier = Decimal("3.00")
    product.save()
    skip_to(FIRST_DUE)

    close_through(FIRST_DUE + timedelta(days=1))

    first = first_installment(loan)
    assert first.penalty == (first.principal * Decimal("0.0004") * Decimal("1.5")).quantize(Decimal("0.01"))


def test_a_payment_after_the_days_close_is_marked_and_replayed_after_that_close(
    make_borrower, make_line, make_loan, loan_snapshot, skip_to, close_through
):
    with_b, twin = (make_loan(make_line(make_borrower())) for _ in range(2))
    skip_to(FIRST_DUE - timedelta(days=3))
    b = repayment_post(loan_id=with_b.pk, amount=Decimal("100"))
    skip_to(FIRST_DUE)
    close_through(FIRST_DUE + timedelta(days=2))
    late_day = business_date_current()
    # The lending step has processed both loans for the day (penalty accrued) when the money lands.
    accrue(business_date=late_day, progress=SilentProgress())
    late = [repayment_post(loan_id=loan.pk, amount=Decimal("1500")) for loan in (with_b, twin)]
    close_through(late_day + timedelta(days=2))

    repayment_reverse(repayment_id=b.pk, reason="returned by the bank")

    assert all(Repayment.objects.get(pk=payment.pk).after_close for payment in late)
    assert loan_snapshot(with_b) == loan_snapshot(twin)


def test_a_payoff_quote_for_a_later_date_includes_what_falls_due_and_accrues_until_then(loan, skip_to, close_through):
    skip_to(FIRST_DUE)
    close_through(FIRST_DUE + timedelta(days=1))
    today = business_date_current()
    target = today + timedelta(days=5)

    quoted = payoff_quote(loan=Loan.objects.get(pk=loan.pk), on_date=target, today=today).amount
    close_through(target - timedelta(days=1))
    actual = payoff_quote(loan=Loan.objects.get(pk=loan.pk), on_date=target, today=target).amount

    assert quoted == actual
    assert first_installment(loan).penalty > 0


def test_a_payoff_quote_for_a_past_date_is_refused(loan):
    today = business_date_current()

    with pytest.raises(DomainError) as refused:
        payoff_quote(loan=loan, on_date=today - timedelta(days=1), today=today)

    assert (refused.value.code, refused.value.field) == ("date_in_past", "date")


def test_disbursing_a_pending_loan_on_a_frozen_line_is_refused(line, make_loan):
    pending = make_loan(line, Decimal("1000"), disburse=False)
    credit_line_freeze(credit_line_id=line.pk, reason="fraud check")

    with pytest.raises(DomainError) as refused:
        loan_disburse(loan_id=pending.pk)

    assert refused.value.code == "line_not_active"
    assert Loan.objects.get(pk=pending.pk).state == Loan.State.PENDING


def test_daily_penalty_writes_no_installment_or_loan_history(loan, skip_to, close_through):
    skip_to(FIRST_DUE)
    close_through(FIRST_DUE + timedelta(days=1))
    installment_rows = Installment.history.count()
    loan_rows = Loan.history.count()

    close_through(FIRST_DUE + timedelta(days=10))

    assert first_installment(loan).penalty > 0
    assert (Installment.history.count(), Loan.history.count()) == (installment_rows, loan_rows)


def test_a_repayment_that_cures_an_overdue_loan_moves_it_back_to_m0_and_records_the_move(loan, skip_to, close_through):
    skip_to(FIRST_DUE)
    close_through(FIRST_DUE + timedelta(days=3))
    assert Loan.objects.get(pk=loan.pk).dpd_bucket == "M1"

    first = first_installment(loan)
    arrears = first.principal + first.interest + first.penalty
    repayment_post(loan_id=loan.pk, amount=arrears)

    cured = Loan.objects.get(pk=loan.pk)
    assert (cured.state, cured.dpd_bucket, cured.overdue_since, cured.is_npl) == (Loan.State.CURRENT, "M0", None, False)
    assert list(cured.bucket_changes.values_list("from_bucket", "to_bucket", "dpd")) == [
        ("M0", "M1", 1),
        ("M1", "M0", 0),
    ]
