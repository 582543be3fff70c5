"""Drawdowns on a credit line, disbursement and cancellation."""

from decimal import Decimal

import pytest

from core.errors import DomainError
from ledger.chart import CASH, PRINCIPAL_RECEIVABLE
from ledger.models import JournalEntry, JournalLine
from ledger.selectors import account_balances
from lending.models import CreditLine, Installment, Loan
from lending.services.credit_lines import credit_line_freeze
from lending.services.loans import loan_cancel, loan_disburse, loan_drawdown

pytestmark = pytest.mark.django_db


def used(line) -> Decimal:
    return CreditLine.objects.get(pk=line.pk).used


def test_a_drawdown_creates_a_pending_loan_and_uses_the_limit(line, start_date):
    loan = loan_drawdown(credit_line_id=line.pk, amount=Decimal("8000"), term_months=6, method="equal_principal")

    loan.refresh_from_db()
    assert loan.state == Loan.State.PENDING
    assert (loan.principal, loan.term_months, loan.method) == (Decimal("8000"), 6, "equal_principal")
    assert loan.daily_rate == line.daily_rate
    assert loan.requested_on == start_date
    assert Decimal("0") < loan.nominal_apr <= Decimal("0.24")
    assert used(line) == Decimal("8000")
    assert not loan.installments.exists()
    assert not JournalEntry.objects.exists()


def test_disbursement_creates_the_installments_of_the_schedule(make_loan, line, start_date):
    loan = make_loan(line, Decimal("12000"), term_months=12)

    installments = list(loan.installments.order_by("number"))
    assert [i.number for i in installments] == list(range(1, 13))
    assert sum(i.principal for i in installments) == Decimal("12000")
    assert installments[0].start_date == start_date
    assert all(i.state == Installment.State.SCHEDULED for i in installments)
    assert all(i.due_date > start_date for i in installments)


def test_disbursement_posts_principal_receivable_against_cash(make_loan, line):
    loan = make_loan(line, Decimal("12000"))

    entry = JournalEntry.objects.get()
    assert entry.kind == "disbursement"
    lines = {(ln.account.code, ln.debit, ln.credit) for ln in JournalLine.objects.filter(entry=entry)}
    assert lines == {
        (PRINCIPAL_RECEIVABLE, Decimal("12000.00"), Decimal("0.00")),
        (CASH, Decimal("0.00"), Decimal("12000.00")),
    }
    assert account_balances(loan_id=loan.pk) == {
        PRINCIPAL_RECEIVABLE: Decimal("12000"),
        CASH: Decimal("-12000"),
    }


def test_a_disbursed_loan_is_current_with_all_principal_outstanding(make_loan, line, start_date):
    loan = make_loan(line, Decimal("12000"))

    assert loan.state == Loan.State.CURRENT
    assert loan.disbursed_on == start_date
    assert loan.principal_outstanding == Decimal("12000")
    assert loan.interest_outstanding == loan.penalty_outstanding == Decimal("0")
    assert used(line) == Decimal("12000")


def test_a_loan_is_disbursed_only_once(loan):
    with pytest.raises(DomainError) as refused:
        loan_disburse(loan_id=loan.pk)

    assert (refused.value.code, refused.value.field) == ("loan_not_pending", "loan")
    assert JournalEntry.objects.count() == 1


def test_cancelling_a_pending_loan_frees_the_limit(make_loan, line):
    loan = make_loan(line, Decimal("9000"), disburse=False)

    loan_cancel(loan_id=loan.pk, reason="customer changed their mind")

    assert Loan.objects.get(pk=loan.pk).state == Loan.State.CANCELLED
    assert used(line) == Decimal("0")
    assert not JournalEntry.objects.exists()


@pytest.mark.parametrize("reason", ["", "x" * 101], ids=["empty", "longer-than-history-keeps"])
def test_a_cancellation_without_a_usable_reason_is_refused(make_loan, line, reason):
    loan = make_loan(line, Decimal("9000"), disburse=False)

    with pytest.raises(DomainError) as refused:
        loan_cancel(loan_id=loan.pk, reason=reason)

    assert refused.value.field == "reason"
    assert Loan.objects.get(pk=loan.pk).state == Loan.State.PENDING
    assert used(line) == Decimal("9000")


def test_a_disbursed_loan_cannot_be_cancelled(loan, line):
    with pytest.raises(DomainError) as refused:
        loan_cancel(loan_id=loan.pk, reason="too late")

    assert refused.value.code == "loan_not_pending"
    assert used(line) == loan.principal


# --- bad input: refused, naming the field, nothing written ------------------------------------

GOOD = {"amount": Decimal("5000"), "term_months": 6, "method": "equal_installment"}


def book_counts(line) -> tuple:
    return (
        Loan.objects.count(),
        Loan.history.count(),
        used(line),
        CreditLine.history.count(),
        JournalEntry.objects.count(),
    )


@pytest.mark.parametrize(
    "changes, code, field",
    [
        ({"amount": Decimal("-1000")}, "amount_not_positive", "amount"),
        ({"amount": Decimal("0")}, "amount_not_positive", "amount"),
        ({"amount": Decimal("1000.001")}, "amount_too_precise", "amount"),
        ({"amount": Decimal("NaN")}, "invalid_amount", "amount"),
        ({"amount": Decimal("Infinity")}, "invalid_amount", "amount"),
        ({"amount": 1000.0}, "invalid_amount", "amount"),
        ({"amount": Decimal("50100")}, "exceeds_available_limit", "amount"),
        ({"amount": Decimal("400")}, "below_minimum_drawdown", "amount"),
        ({"amount": Decimal("1050")}, "not_a_multiple", "amount"),
        ({"term_months": 7}, "term_not_offered", "term_months"),
        ({"term_months": "12"}, "term_not_offered", "term_months"),
        ({"method": "balloon"}, "method_not_offered", "method"),
    ],
    ids=[
        "negative",
        "zero",
        "three-decimals",
        "nan",
        "infinity",
        "float",
        "above-available-limit",
        "below-minimum",
        "not-a-multiple-of-100",
        "term-7",
        "term-as-string",
        "unknown-method",
    ],
)
def test_a_drawdown_with_bad_input_is_refused_naming_the_field_and_writes_nothing(line, changes, code, field):
    before = book_counts(line)

    with pytest.raises(DomainError) as refused:
        loan_drawdown(credit_line_id=line.pk, **{**GOOD, **changes})

    assert (refused.value.code, refused.value.field) == (code, field)
    assert book_counts(line) == before


def test_a_drawdown_above_what_is_left_of_a_used_line_is_refused(make_loan, line):
    make_loan(line, Decimal("45000"))
    before = book_counts(line)

    with pytest.raises(DomainError) as refused:
        loan_drawdown(credit_line_id=line.pk, **{**GOOD, "amount": Decimal("5100")})

    assert (refused.value.code, refused.value.field) == ("exceeds_available_limit", "amount")
    assert book_counts(line) == before


def test_a_drawdown_on_a_frozen_line_is_refused(line):
    credit_line_freeze(credit_line_id=line.pk, reason="1 DPD elsewhere")
    before = book_counts(line)

    with pytest.raises(DomainError) as refused:
        loan_drawdown(credit_line_id=line.pk, **GOOD)

    assert (refused.value.code, refused.value.field) == ("line_not_active", "credit_line")
    assert book_counts(line) == before


def test_a_drawdown_whose_apr_is_above_the_product_cap_is_refused(make_line, borrower, product_variant):
    capped = make_line(borrower, product=product_variant(apr_cap=Decimal("0.05")))
    before = book_counts(capped)

    with pytest.raises(DomainError) as refused:
        loan_drawdown(credit_line_id=capped.pk, **GOOD)

    assert (refused.value.code, refused.value.field) == ("apr_above_cap", "daily_rate")
    assert book_counts(capped) == before


# --- idempotency ---------------------------------------------------------------------------


def test_a_repeated_drawdown_with_the_same_key_returns_the_same_loan(line):
    first = loan_drawdown(credit_line_id=line.pk, idempotency_key="req-1", **GOOD)

    again = loan_drawdown(credit_line_id=line.pk, idempotency_key="req-1", **GOOD)

    assert again.pk == first.pk
    assert Loan.objects.count() == 1
    assert used(line) == GOOD["amount"]


def test_the_same_key_with_a_different_amount_is_an_idempotency_conflict(line):
    loan_drawdown(credit_line_id=line.pk, idempotency_key="req-1", **GOOD)
    before = book_counts(line)

    with pytest.raises(DomainError) as refused:
        loan_drawdown(credit_line_id=line.pk, idempotency_key="req-1", **{**GOOD, "amount": Decimal("6000")})

    assert (refused.value.code, refused.value.field) == ("idempotency_conflict", "idempotency_key")
    assert book_counts(line) == before


def test_the_same_key_with_a_different_method_is_an_idempotency_conflict(line):
    loan_drawdown(credit_line_id=line.pk, idempotency_key="req-1", **GOOD)
    before = book_counts(line)

    with pytest.raises(DomainError) as refused:
        loan_drawdown(credit_line_id=line.pk, idempotency_key="req-1", **{**GOOD, "method": "interest_first"})

    assert refused.value.code == "idempotency_conflict"
    assert book_counts(line) == before
