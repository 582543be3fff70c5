"""Joint lending and loss sharing: funding shares, write-off losses split between the insurer and the funders."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from core.business_date import business_date_current
from core.errors import DomainError
from insurance.models import CoverageMovement, FundingShare, InsuranceClaim, LossAllocation
from insurance.services.claims import claim_approve, claim_pay
from insurance.services.coverage import loan_funding_set
from insurance.services.policies import policy_transition
from ledger.models import JournalEntry
from ledger.verification import ledger_problems
from lending.models import Loan

pytestmark = pytest.mark.django_db

FIRST_DUE = date(2031, 2, 15)  # every loan here is disbursed on 2031-01-15 and never paid
WRITE_OFF_DAY = FIRST_DUE + timedelta(days=180)


def _write_off_loss(loan) -> Decimal:
    entry = JournalEntry.objects.get(kind="write_off", lines__loan_id=loan.pk, lines__debit__gt=0)
    return sum(line.debit for line in entry.lines.all())


def test_an_uninsured_write_off_is_split_70_30_between_the_funders_to_the_fen(
    make_loan, advance_to, close_through, balances
):
    loan = make_loan(Decimal("12300"))
    loan_funding_set(loan_id=loan.pk, shares={"partner-bank": Decimal("0.6667"), "platform": Decimal("0.3333")})
    advance_to(WRITE_OFF_DAY)
    close_through(WRITE_OFF_DAY)

    assert Loan.objects.get(pk=loan.pk).state == Loan.State.WRITTEN_OFF
    loss = _write_off_loss(loan)
    parts = {a.funder.code: a.amount for a in LossAllocation.objects.filter(loan=loan).select_related("funder")}
    assert sum(parts.values()) == loss
    assert abs(parts["partner-bank"] - loss * Decimal("0.6667")) < Decimal("0.01")
    after = balances()
    assert after["funder_loss_bank"] + after["funder_loss_platform"] == loss
    # The gross loss stays on write_off_expense; the contra carries what was moved to its bearers.
    assert after["write_off_expense"] + after["losses_shared"] == 0

    close_through(WRITE_OFF_DAY + timedelta(days=1))
    assert LossAllocation.objects.filter(loan=loan).count() == 2


def test_a_compensated_loan_s_write_off_falls_on_the_insurer_first_then_the_funders(
    make_policy, make_loan, advance_to, close_through, balances
):
    make_policy(stop_loss_rate=Decimal("1"), interest_coverage=Decimal("0"))
    loan = make_loan()
    advance_to(FIRST_DUE + timedelta(days=91))
    claim = InsuranceClaim.objects.get()
    claim_approve(claim_id=claim.pk)
    claim_pay(claim_id=claim.pk)
    advance_to(WRITE_OFF_DAY)
    close_through(WRITE_OFF_DAY)

    loss = _write_off_loss(loan)
    income = sum(m.amount for m in CoverageMovement.objects.filter(kind="insurer_income"))
    release = CoverageMovement.objects.get(kind="loss_release").amount
    assert release == Decimal("12000.00") + income
    funders = sum(a.amount for a in LossAllocation.objects.filter(loan=loan))
    assert release + funders == loss
    after = balances()
    assert "compensated_loans" not in after  # the insurer's part is used up by the write-off
    assert after["funder_loss_bank"] + after["funder_loss_platform"] == funders
    # Chains, seals and every loan's cached balances still agree with the ledger.
    assert list(ledger_problems()) == []


@pytest.mark.parametrize(
    ("shares", "code"),
    [
        ({"partner-bank": Decimal("0.8"), "platform": Decimal("0.3")}, "shares_not_whole"),
        ({"partner-bank": Decimal("0.75"), "platform": Decimal("0.25")}, "platform_share_too_low"),
        ({"partner-bank": Decimal("0.7"), "nobody": Decimal("0.3")}, "unknown_funder"),
        ({"partner-bank": Decimal("-0.7"), "platform": Decimal("1.7")}, "invalid_share"),
        ({"partner-bank": "lots", "platform": Decimal("0.3")}, "invalid_share"),
        ({}, "no_funders"),
    ],
)
def test_bad_funding_shares_are_refused_and_the_loan_keeps_its_shares(make_loan, shares, code):
    loan = make_loan()
    before = list(FundingShare.objects.filter(loan=loan).values_list("funder__code", "share"))

    with pytest.raises(DomainError) as refused:
        loan_funding_set(loan_id=loan.pk, shares=shares)

    assert (refused.value.code, refused.value.field) == (code, "shares")
    assert list(FundingShare.objects.filter(loan=loan).values_list("funder__code", "share")) == before


def test_policy_moves_follow_the_state_machine_and_need_a_reason(make_policy):
    policy = make_policy(activate=False)
    policy.products.clear()

    with pytest.raises(DomainError) as no_product:
        policy_transition(policy_id=policy.pk, action="activate", reason="signed")
    with pytest.raises(DomainError) as no_reason:
        policy_transition(policy_id=policy.pk, action="activate", reason="")
    with pytest.raises(DomainError) as wrong_state:
        policy_transition(policy_id=policy.pk, action="resume", reason="why not")

    assert no_product.value.code == "policy_covers_no_product"
    assert no_reason.value.field == "reason"
    assert wrong_state.value.code == "policy_state"
    policy.refresh_from_db()
    assert policy.state == "draft"


def test_the_close_expires_a_policy_after_its_effective_period_and_it_enrols_no_more_loans(
    make_policy, make_loan, close_through
):
    today = business_date_current()
    policy = make_policy(effective_to=today)
    close_through(today + timedelta(days=1))

    policy.refresh_from_db()
    assert policy.state == "expired"
    assert policy.history.first().history_change_reason == f"effective period ended {today}"
    assert make_loan().monthly_premium_rate == 0
