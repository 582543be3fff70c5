"""Reversing a repayment leaves the loan exactly as if the payment had never arrived.

Each scenario builds two identical loans (two borrowers, same day, same
terms) and posts payments A, B and (mostly) C on different dates with the days
closed in between; only the first loan receives B, which is then reversed.
Both loans must then agree field by field: installments, balances, the line
and the ledger balance of every account.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from core.business_date import business_date_current
from core.errors import DomainError
from ledger.models import JournalEntry
from ledger.verification import ledger_problems
from lending.models import CreditLine, Installment, Loan, RepaymentReversal
from lending.services.repayments import payoff_quote, repayment_post, repayment_reverse

pytestmark = pytest.mark.django_db

# A fixed amount, or one worked out from the loan that receives B when the payment is made.
Amount = Decimal | Callable[[Loan], Decimal]


def due_amount(number: int) -> Callable[[Loan], Decimal]:
    """What installment `number` asks for, as the schedule stands when the payment is made."""

    def amount(loan: Loan) -> Decimal:
        row = Installment.objects.get(loan=loan, number=number)
        return (
            row.principal
            + row.interest
            + row.fee
            + row.penalty
            - (row.principal_paid + row.interest_paid + row.fee_paid + row.penalty_paid)
        )

    return amount


def payoff_less(short: str) -> Callable[[Loan], Decimal]:
    """The payoff amount on the open date, less `short` (a residue within tolerance, or nothing)."""

    def amount(loan: Loan) -> Decimal:
        loan = Loan.objects.get(pk=loan.pk)
        return payoff_quote(loan=loan, on_date=business_date_current(), today=business_date_current()).amount - Decimal(
            short
        )

    return amount


@dataclass(frozen=True)
class Pay:
    label: str
    on: date
    amount: Amount


@dataclass(frozen=True)
class Scenario:
    payments: tuple[Pay, ...]
    reverse_on: date
    method: str = "equal_installment"
    daily_rate: Decimal = Decimal("0.0004")


SCENARIOS = {
    # Without B the second installment goes overdue and accrues penalty; C then pays it first.
    "b-paid-an-installment-on-its-due-date": Scenario(
        payments=(
            Pay("A", date(2031, 2, 15), due_amount(1)),
            Pay("B", date(2031, 3, 15), due_amount(2)),
            Pay("C", date(2031, 3, 19), Decimal("1500")),
        ),
        reverse_on=date(2031, 3, 21),
    ),
    # Without B the schedule is re-amortised differently, and C falls short of the first installment.
    "b-was-a-prepayment-mid-period": Scenario(
        payments=(
            Pay("A", date(2031, 1, 25), Decimal("1000")),
            Pay("B", date(2031, 2, 5), Decimal("3000")),
            Pay("C", date(2031, 2, 15), Decimal("700")),
        ),
        reverse_on=date(2031, 2, 18),
        method="equal_principal",
    ),
    # The first installment stays overdue throughout: B's absence changes the penalty every day.
    "b-was-a-late-partial-payment": Scenario(
        payments=(
            Pay("A", date(2031, 2, 15), Decimal("500")),
            Pay("B", date(2031, 2, 17), Decimal("300")),
            Pay("C", date(2031, 2, 21), Decimal("600")),
        ),
        reverse_on=date(2031, 2, 23),
    ),
    # Interest-first: without B's prepayment C pays more interest and prepays less.
    "b-prepaid-an-interest-first-loan": Scenario(
        payments=(
            Pay("A", date(2031, 2, 15), due_amount(1)),
            Pay("B", date(2031, 3, 1), Decimal("5000")),
            Pay("C", date(2031, 3, 15), Decimal("200")),
        ),
        reverse_on=date(2031, 3, 20),
        method="interest_first",
    ),
    # B paid the loan off early (50 fen written off); without it the loan falls overdue and
    # accrues penalty while the close leaves the paid-off loan alone: the replay charges those days.
    "b-paid-the-loan-off-early-leaving-a-residue": Scenario(
        payments=(
            Pay("A", date(2031, 1, 20), Decimal("2000")),
            Pay("B", date(2031, 2, 10), payoff_less("0.50")),
        ),
        reverse_on=date(2031, 2, 20),
    ),
    # C left a residue that was written off; without B it is an ordinary prepayment.
    "c-left-a-residue-that-was-written-off": Scenario(
        payments=(
            Pay("A", date(2031, 1, 20), Decimal("2000")),
            Pay("B", date(2031, 1, 25), Decimal("3000")),
            Pay("C", date(2031, 2, 1), payoff_less("0.50")),
        ),
        reverse_on=date(2031, 2, 3),
        method="equal_principal",
    ),
    # A rate with eight decimals: the daily penalty has more places than the installment row keeps,
    # so the replayed loan and the one closed day by day must round the running penalty alike.
    "b-was-late-on-a-loan-priced-to-eight-decimals": Scenario(
        payments=(
            Pay("A", date(2031, 2, 15), Decimal("500.02")),
            Pay("B", date(2031, 2, 17), Decimal("333.33")),
        ),
        reverse_on=date(2031, 2, 26),
        daily_rate=Decimal("0.00045679"),
    ),
}


@pytest.fixture
def twin_loans(make_borrower, make_line, make_loan):
    """Two identical loans on two borrowers' identical lines: {"with_b": …, "without_b": …}."""

    def make(method: str, daily_rate: Decimal) -> dict[str, Loan]:
        return {
            which: make_loan(
                make_line(make_borrower(), daily_rate=daily_rate),
                Decimal("12300"),
                term_months=6,
                method=method,
            )
            for which in ("with_b", "without_b")
        }

    return make


@pytest.fixture
def run_scenario(twin_loans, advance_to):
    def run(scenario: Scenario) -> tuple[dict[str, Loan], dict]:
        loans = twin_loans(scenario.method, scenario.daily_rate)
        posted: dict[str, dict] = {"with_b": {}, "without_b": {}}
        for pay in scenario.payments:
            advance_to(pay.on)
            # The amount as the first loan sees it; A and C are the same money on both loans.
            amount = pay.amount(loans["with_b"]) if callable(pay.amount) else pay.amount
            for which, loan in loans.items():
                if pay.label == "B" and which == "without_b":
                    continue
                posted[which][pay.label] = repayment_post(loan_id=loan.pk, amount=amount)
        advance_to(scenario.reverse_on)
        return loans, posted

    return run


@pytest.mark.parametrize("name", SCENARIOS)
def test_reversing_b_leaves_the_loan_as_if_b_had_never_arrived(name, run_scenario, loan_snapshot):
    loans, posted = run_scenario(SCENARIOS[name])
    assert loan_snapshot(loans["with_b"]) != loan_snapshot(loans["without_b"])

    repayment_reverse(repayment_id=posted["with_b"]["B"].pk, reason="returned by the bank")

    assert loan_snapshot(loans["with_b"]) == loan_snapshot(loans["without_b"])


def test_the_ledger_verifies_after_a_reversal(run_scenario):
    loans, posted = run_scenario(SCENARIOS["b-was-a-late-partial-payment"])

    repayment_reverse(repayment_id=posted["with_b"]["B"].pk, reason="returned by the bank")

    assert list(ledger_problems()) == []


def test_after_a_reversal_the_loan_keeps_closing_days_like_its_twin(run_scenario, close_through, loan_snapshot):
    loans, posted = run_scenario(SCENARIOS["b-paid-an-installment-on-its-due-date"])
    repayment_reverse(repayment_id=posted["with_b"]["B"].pk, reason="returned by the bank")

    close_through(date(2031, 3, 25))

    assert loan_snapshot(loans["with_b"]) == loan_snapshot(loans["without_b"])
    assert list(ledger_problems()) == []


def test_a_later_payment_can_be_reversed_after_its_allocation_was_reposted(run_scenario, loan_snapshot):
    loans, posted = run_scenario(SCENARIOS["b-paid-an-installment-on-its-due-date"])
    repayment_reverse(repayment_id=posted["with_b"]["B"].pk, reason="returned by the bank")

    for which in ("with_b", "without_b"):
        repayment_reverse(repayment_id=posted[which]["C"].pk, reason="returned by the bank")

    assert loan_snapshot(loans["with_b"]) == loan_snapshot(loans["without_b"])
    assert list(ledger_problems()) == []


def test_a_repayment_is_reversed_only_once(loan, skip_to):
    skip_to(date(2031, 1, 25))
    b = repayment_post(loan_id=loan.pk, amount=Decimal("500"))
    repayment_reverse(repayment_id=b.pk, reason="returned by the bank")
    entries = JournalEntry.objects.count()

    with pytest.raises(DomainError) as refused:
        repayment_reverse(repayment_id=b.pk, reason="returned again")

    assert (refused.value.code, refused.value.field) == ("already_reversed", "repayment")
    assert RepaymentReversal.objects.filter(repayment=b).count() == 1
    assert JournalEntry.objects.count() == entries


@pytest.mark.parametrize(
    "reason, code", [("  ", "required"), ("x" * 201, "too_long")], ids=["blank", "longer-than-stored"]
)
def test_a_reversal_needs_a_reason_that_can_be_stored(loan, skip_to, reason, code):
    skip_to(date(2031, 1, 25))
    payment = repayment_post(loan_id=loan.pk, amount=Decimal("500"))

    with pytest.raises(DomainError) as refused:
        repayment_reverse(repayment_id=payment.pk, reason=reason)

    assert (refused.value.code, refused.value.field) == (code, "reason")
    assert not RepaymentReversal.objects.exists()


# --- a reversal reopens a loan that B paid off --------------------------------------------------


@pytest.fixture
def paid_off_by_b(twin_loans, skip_to):
    """A on Jan 20 on both loans; B pays the first loan off on Jan 25; the open date is Jan 28."""
    loans = twin_loans("equal_installment", Decimal("0.0004"))
    skip_to(date(2031, 1, 20))
    for loan in loans.values():
        repayment_post(loan_id=loan.pk, amount=Decimal("2000"))
    skip_to(date(2031, 1, 25))
    quote = payoff_quote(
        loan=Loan.objects.get(pk=loans["with_b"].pk),
        on_date=business_date_current(),
        today=business_date_current(),
    )
    b = repayment_post(loan_id=loans["with_b"].pk, amount=quote.amount)
    assert Loan.objects.get(pk=loans["with_b"].pk).state == Loan.State.PAID_OFF
    skip_to(date(2031, 1, 28))
    return loans, b


def test_reversing_the_payment_that_paid_a_loan_off_reopens_it(paid_off_by_b):
    loans, b = paid_off_by_b

    repayment_reverse(repayment_id=b.pk, reason="returned by the bank")

    reopened = Loan.objects.get(pk=loans["with_b"].pk)
    assert (reopened.state, reopened.closed_on) == (Loan.State.CURRENT, None)
    assert CreditLine.objects.get(pk=reopened.credit_line_id).used == reopened.principal_outstanding > 0


def test_a_reopened_loan_equals_its_twin_that_was_never_paid_off(paid_off_by_b, loan_snapshot):
    loans, b = paid_off_by_b

    repayment_reverse(repayment_id=b.pk, reason="returned by the bank")

    assert loan_snapshot(loans["with_b"]) == loan_snapshot(loans["without_b"])
    assert list(ledger_problems()) == []


def test_a_reopened_loan_can_be_paid_off_again(paid_off_by_b):
    loans, b = paid_off_by_b
    repayment_reverse(repayment_id=b.pk, reason="returned by the bank")
    loan = Loan.objects.get(pk=loans["with_b"].pk)

    repayment_post(
        loan_id=loan.pk,
        amount=payoff_quote(loan=loan, on_date=business_date_current(), today=business_date_current()).amount,
    )

    assert Loan.objects.get(pk=loan.pk).state == Loan.State.PAID_OFF
    assert list(ledger_problems()) == []
