"""Claims: filed by the close at the trigger DPD (once), reviewed, paid; compensation, recoveries, stop-loss."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import DomainError
from core.money import round_fen
from insurance.close import file_claims
from insurance.models import Coverage, CoverageMovement, InsuranceClaim, Policy
from insurance.selectors import stop_loss
from insurance.services.claims import (
    claim_amounts,
    claim_approve,
    claim_pay,
    claim_reject,
    claim_request_documents,
)
from ledger.models import JournalEntry
from lending.models import Loan
from lending.services.repayments import repayment_post

pytestmark = pytest.mark.django_db

FIRST_DUE = date(2031, 2, 15)  # every loan here is disbursed on 2031-01-15 and never paid
TRIGGER_DAY = FIRST_DUE + timedelta(days=90)


@pytest.fixture
def claimed(make_policy, make_loan, advance_to, close_through):
    """A covered loan closed through the day it reached 90 days past due: its claim is filed.

    With one loan in the cohort the default 5 % stop-loss would cap the claim, so this policy's is 100 % and
    it covers principal only: the claim, all the principal, is exactly the cap.
    """
    make_policy(stop_loss_rate=Decimal("1"), interest_coverage=Decimal("0"))
    loan = make_loan()
    advance_to(TRIGGER_DAY)
    close_through(TRIGGER_DAY)
    return InsuranceClaim.objects.get(coverage__loan=loan)


def test_a_claim_is_filed_exactly_at_the_trigger_dpd_and_only_once(policy, make_loan, advance_to, close_through):
    loan = make_loan()
    advance_to(TRIGGER_DAY)  # closed through the day before: 89 days past due
    assert not InsuranceClaim.objects.exists()

    close_through(TRIGGER_DAY)
    claim = InsuranceClaim.objects.get()
    assert (claim.coverage.loan_id, claim.filed_on, claim.dpd_at_filing) == (loan.pk, TRIGGER_DAY, 90)
    assert claim.state == InsuranceClaim.State.FILED

    # The step run again for that day (a re-run after a crash), and the next days' closes, file nothing more.
    assert file_claims(business_date=TRIGGER_DAY, progress=None)["claims"] == 0
    close_through(TRIGGER_DAY + timedelta(days=2))
    assert InsuranceClaim.objects.count() == 1


def test_the_waiting_period_keeps_an_early_default_out_of_cover(make_policy, make_loan, advance_to, close_through):
    make_policy(waiting_days=32)  # the missed due date is 31 days after enrolment, inside the waiting period
    make_loan()
    advance_to(TRIGGER_DAY)
    close_through(TRIGGER_DAY)

    assert not InsuranceClaim.objects.exists()


def test_the_claim_is_the_outstanding_balances_times_the_coverage_ratios_to_the_fen(
    make_policy, make_loan, advance_to, close_through
):
    make_policy(principal_coverage=Decimal("0.9"), interest_coverage=Decimal("0.8"), penalty_coverage=Decimal("0.333"))
    loan = make_loan(Decimal("12300"))
    advance_to(TRIGGER_DAY)
    close_through(TRIGGER_DAY)

    loan = Loan.objects.get(pk=loan.pk)
    claim = InsuranceClaim.objects.get()
    assert loan.penalty_outstanding > 0
    assert claim.principal_claimed == round_fen(loan.principal_outstanding * Decimal("0.9"))
    assert claim.interest_claimed == round_fen(loan.interest_outstanding * Decimal("0.8"))
    assert claim.penalty_claimed == round_fen(loan.penalty_outstanding * Decimal("0.333"))
    assert claim.claimed_amount == claim.principal_claimed + claim.interest_claimed + claim.penalty_claimed


_money = st.integers(min_value=0, max_value=10**9).map(lambda n: Decimal(n).scaleb(-2))
_ratio = st.integers(min_value=0, max_value=10**4).map(lambda n: Decimal(n).scaleb(-4))


@given(principal=_money, interest=_money, penalty=_money, ratios=st.tuples(_ratio, _ratio, _ratio))
def test_claim_parts_are_fen_exact_within_the_covered_amounts_and_sum_to_the_claim(
    principal, interest, penalty, ratios
):
    policy = Policy(principal_coverage=ratios[0], interest_coverage=ratios[1], penalty_coverage=ratios[2])

    parts = claim_amounts(policy=policy, principal=principal, interest=interest, penalty=penalty)

    for name, base, ratio in [("principal", principal, ratios[0]), ("interest", interest, ratios[1]),
                              ("penalty", penalty, ratios[2])]:  # fmt: skip
        part = parts[f"{name}_claimed"]
        assert part == part.quantize(Decimal("0.01"))
        assert abs(part - base * ratio) <= Decimal("0.005")
    assert parts["claimed_amount"] == sum(parts[f"{n}_claimed"] for n in ("principal", "interest", "penalty"))


def test_approval_and_payout_post_balanced_entries_and_the_loan_becomes_compensated(claimed, balances, close_through):
    claim_request_documents(claim_id=claimed.pk, documents="collection records")
    claim = claim_approve(claim_id=claimed.pk)
    assert claim.approved_amount == claim.claimed_amount
    assert balances()["insurance_claim_receivable"] == claim.approved_amount
    cash_before = balances()["cash"]

    claim = claim_pay(claim_id=claim.pk, reference="PA-2031-0001")

    after = balances()
    assert "insurance_claim_receivable" not in after
    assert after.get("cash", Decimal("0")) - cash_before == claim.approved_amount
    assert after["compensated_loans"] == -claim.approved_amount
    for entry in JournalEntry.objects.filter(kind__in=["claim_approved", "claim_paid"]).prefetch_related("lines"):
        assert sum(line.debit for line in entry.lines.all()) == sum(line.credit for line in entry.lines.all())
    coverage = Coverage.objects.get(pk=claim.coverage_id)
    assert (coverage.state, coverage.compensated_on) == (Coverage.State.COMPENSATED, claim.paid_on)
    assert [h.state for h in InsuranceClaim.history.filter(id=claim.pk).order_by("history_id")] == [
        "filed", "under_review", "approved", "paid",
    ]  # fmt: skip

    # From now on the penalty the close accrues is the insurer's, not the funder's.
    penalty_income_before = balances()["penalty_income"]
    close_through(claim.paid_on)
    after = balances()
    assert after["penalty_income"] == penalty_income_before
    moved = CoverageMovement.objects.get(kind="insurer_income")
    assert moved.amount > 0
    assert after["compensated_loans"] == -claim.approved_amount - moved.amount


def test_recoveries_after_payout_are_routed_to_the_insurer(claimed, balances, close_through):
    claim_approve(claim_id=claimed.pk)
    claim = claim_pay(claim_id=claimed.pk)
    loan = claim.coverage.loan

    repayment_post(loan_id=loan.pk, amount=Decimal("1000.00"))
    close_through(claim.paid_on)

    assert balances()["subrogation_payable"] == Decimal("-1000.00")
    assert CoverageMovement.objects.get(kind="recovery").amount == Decimal("1000.00")


def test_a_claim_with_a_recovery_share_routes_only_that_share(
    make_policy, make_loan, advance_to, close_through, balances
):
    make_policy(recovery_insurer_share=Decimal("0.6"), stop_loss_rate=Decimal("1"), interest_coverage=Decimal("0"))
    loan = make_loan()
    advance_to(TRIGGER_DAY)
    close_through(TRIGGER_DAY)
    claim = InsuranceClaim.objects.get()
    claim_approve(claim_id=claim.pk)
    claim_pay(claim_id=claim.pk)

    repayment_post(loan_id=loan.pk, amount=Decimal("333.33"))
    close_through(TRIGGER_DAY + timedelta(days=1))

    assert balances()["subrogation_payable"] == Decimal("-200.00")


def test_the_stop_loss_pays_up_to_the_cap_then_refuses(make_policy, make_loan, advance_to, close_through):
    policy = make_policy(stop_loss_rate=Decimal("0.5"))
    loans = [make_loan() for _ in range(3)]
    advance_to(TRIGGER_DAY)
    close_through(TRIGGER_DAY)
    first, second, third = InsuranceClaim.objects.filter(coverage__loan__in=loans).order_by("pk")
    cap = Decimal("18000.00")  # 50 % of 3 × 12,000 insured
    assert stop_loss(policy=policy, year=1).cap == cap
    assert first.claimed_amount + second.claimed_amount > cap > first.claimed_amount

    assert claim_approve(claim_id=first.pk).approved_amount == first.claimed_amount
    assert claim_approve(claim_id=second.pk).approved_amount == cap - first.claimed_amount
    used = stop_loss(policy=policy, year=1)
    assert (used.used, used.headroom, used.utilisation) == (cap, Decimal("0"), Decimal("1.0000"))

    with pytest.raises(DomainError) as refused:
        claim_approve(claim_id=third.pk)
    assert refused.value.code == "stop_loss_reached"
    assert InsuranceClaim.objects.get(pk=third.pk).state == InsuranceClaim.State.FILED
    assert not JournalEntry.objects.filter(reference=f"claim:{third.pk}").exists()
    assert claim_reject(claim_id=third.pk, reason="stop-loss reached").state == InsuranceClaim.State.REJECTED


def test_bad_claim_actions_are_refused_with_a_clear_error_and_write_nothing(claimed):
    entries = JournalEntry.objects.count()

    with pytest.raises(DomainError) as no_reason:
        claim_reject(claim_id=claimed.pk, reason="  ")
    with pytest.raises(DomainError) as not_approved:
        claim_pay(claim_id=claimed.pk)
    with pytest.raises(DomainError) as missing:
        claim_approve(claim_id=999_999)

    assert (no_reason.value.code, no_reason.value.field) == ("required", "reason")
    assert (not_approved.value.code, not_approved.value.field) == ("claim_state", "state")
    assert missing.value.code == "claim_not_found"
    assert InsuranceClaim.objects.get(pk=claimed.pk).state == InsuranceClaim.State.FILED
    assert JournalEntry.objects.count() == entries

    claim_reject(claim_id=claimed.pk, reason="fraud suspected")
    with pytest.raises(DomainError) as rejected:
        claim_approve(claim_id=claimed.pk)
    assert rejected.value.code == "claim_state"
