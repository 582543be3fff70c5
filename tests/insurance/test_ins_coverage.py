"""Coverage at disbursement: premium in each installment and in the all-in APR, enrolment, funding shares."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import DomainError
from core.money import round_fen
from insurance.close import premium_part
from insurance.models import Coverage, CoverageMovement, FundingShare
from insurance.services.policies import policy_transition
from lending.models import Loan, Partner
from lending.services.loans import loan_disburse, loan_drawdown
from lending.services.repayments import repayment_post, repayment_reverse

pytestmark = pytest.mark.django_db

FIRST_DUE = date(2031, 2, 15)  # loans are disbursed on the fixtures' start date, 2031-01-15


def test_a_covered_loan_carries_the_premium_in_each_installment_on_its_opening_principal(policy, make_loan):
    loan = make_loan(Decimal("12000"))

    assert (loan.monthly_premium_rate, loan.monthly_fee_rate) == (Decimal("0.0025"), Decimal("0.0025"))
    opening = Decimal("12000")
    for row in loan.installments.order_by("number"):
        assert row.fee == round_fen(opening * Decimal("0.0025"))
        opening -= row.principal
    coverage = Coverage.objects.get(loan=loan)
    assert (coverage.policy, coverage.enrolled_on, coverage.policy_year) == (policy, loan.disbursed_on, 1)
    assert coverage.insured_principal == Decimal("12000")


def test_the_premium_raises_the_all_in_apr_shown_at_drawdown(make_policy, make_loan):
    uninsured = make_loan()
    make_policy()
    insured = make_loan()

    # 0.25 %/month on each period's opening balance is a rate on the balance: 12 × 0.25 % = 3 points of APR.
    assert Decimal("0.0295") < insured.nominal_apr - uninsured.nominal_apr < Decimal("0.0305")
    assert insured.nominal_apr <= Decimal("0.24")


def test_a_rate_and_premium_above_the_apr_cap_refuse_the_drawdown_and_write_nothing(make_policy, make_line):
    line = make_line(daily_rate=Decimal("0.0006"))
    # Without insurance 0.06 %/day is within the 24 % cap.
    assert loan_drawdown(credit_line_id=line.pk, amount=Decimal("1000"), term_months=12, method="equal_installment")
    make_policy()
    before = Loan.objects.count()

    with pytest.raises(DomainError) as refused:
        loan_drawdown(credit_line_id=line.pk, amount=Decimal("1000"), term_months=12, method="equal_installment")

    assert refused.value.code == "apr_above_cap"
    assert "insurance premium 0.25%/month included" in refused.value.message
    assert Loan.objects.count() == before


def test_without_an_active_policy_a_loan_is_not_covered_and_pays_no_premium(make_policy, make_loan):
    make_policy(activate=False)

    loan = make_loan()

    assert loan.monthly_premium_rate == 0
    assert not Coverage.objects.filter(loan=loan).exists()
    assert set(loan.installments.values_list("fee", flat=True)) == {Decimal("0")}


def test_a_policy_for_other_partners_does_not_cover_the_loan(make_policy, make_loan):
    make_policy(partners=[Partner.objects.create(code="other", name="Other")])

    assert not Coverage.objects.filter(loan=make_loan()).exists()


def test_a_pending_loan_priced_with_a_premium_is_not_disbursed_once_its_policy_is_suspended(policy, make_line):
    line = make_line()
    loan = loan_drawdown(credit_line_id=line.pk, amount=Decimal("5000"), term_months=6, method="equal_installment")
    policy_transition(policy_id=policy.pk, action="suspend", reason="insurer review")

    with pytest.raises(DomainError) as refused:
        loan_disburse(loan_id=loan.pk)

    assert refused.value.code == "no_active_policy"
    assert Loan.objects.get(pk=loan.pk).state == Loan.State.PENDING


def test_each_loan_is_funded_70_30_by_the_default_funders(make_loan):
    loan = make_loan()

    shares = {s.funder.kind: s.share for s in FundingShare.objects.filter(loan=loan).select_related("funder")}
    assert shares == {"bank": Decimal("0.7"), "platform": Decimal("0.3")}


def test_collected_premium_becomes_payable_to_the_insurer_and_a_reversal_takes_it_back(
    policy, make_loan, advance_to, close_through, balances
):
    loan = make_loan()
    first = loan.installments.get(number=1)
    advance_to(FIRST_DUE)
    repayment = repayment_post(loan_id=loan.pk, amount=first.principal + first.interest + first.fee)
    close_through(FIRST_DUE)

    assert balances()["premium_payable"] == -first.fee
    assert balances().get("fee_income", Decimal("0")) == 0
    movement = CoverageMovement.objects.get(kind="premium")
    assert (movement.amount, movement.business_date) == (first.fee, FIRST_DUE)

    repayment_reverse(repayment_id=repayment.pk, reason="returned by the bank")
    close_through(FIRST_DUE + timedelta(days=1))

    assert balances().get("premium_payable", Decimal("0")) == 0
    assert [m.amount for m in CoverageMovement.objects.filter(kind="premium")] == [first.fee, -first.fee]


@given(
    fee=st.integers(min_value=0, max_value=10**8).map(lambda n: Decimal(n).scaleb(-2)),
    service=st.integers(min_value=0, max_value=100),
    premium=st.integers(min_value=1, max_value=100),
)
def test_the_premium_part_of_a_fee_is_exact_and_never_more_than_the_fee(fee, service, premium):
    premium_rate = Decimal(premium).scaleb(-4)
    fee_rate = premium_rate + Decimal(service).scaleb(-4)

    part = premium_part(fee, fee_rate=fee_rate, premium_rate=premium_rate)

    assert 0 <= part <= fee
    assert part == part.quantize(Decimal("0.01"))
    assert abs(part - fee * premium_rate / fee_rate) < Decimal("0.01")
    if service == 0:
        assert part == fee
