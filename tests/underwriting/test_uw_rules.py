"""Hard rules at their boundaries and the offer's caps (pure, no database)."""

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from underwriting.models import DEFAULT_BANDS
from underwriting.rules import REGULATORY_MAX_LIMIT, Applicant, Band, Policy, band_for, offer_make, rules_check

POLICY = Policy(
    min_age=18,
    max_age=60,
    max_debt_to_income=Decimal("0.5"),
    min_credit_score=450,
    income_cap_ratio=Decimal("0.3333"),
    limit_step=Decimal("100"),
    bands=tuple(
        Band(b["name"], Decimal(b["max_pd"]), b["decision"], Decimal(b["income_multiple"]), Decimal(b["daily_rate"]))
        for b in DEFAULT_BANDS
    ),
)
APPLICANT = Applicant(
    age=35,
    is_business=False,
    identity_verified=True,
    blocked=False,
    debt_to_income=Decimal("0.2"),
    credit_score=700,
    delinquent_with_us=False,
    delinquent_elsewhere=False,
    requested_amount=None,
    product_min_limit=Decimal("1000"),
    product_max_limit=Decimal("200000"),
)


def failed(applicant) -> list[str]:
    return [r.code for r in rules_check(applicant, POLICY) if not r.passed]


def test_a_sound_applicant_passes_every_rule():
    assert failed(APPLICANT) == []


@pytest.mark.parametrize(("age", "passes"), [(17, False), (18, True), (60, True), (61, False)])
def test_age_limits_are_inclusive(age, passes):
    assert ("age_out_of_range" not in failed(replace(APPLICANT, age=age))) is passes


def test_a_business_has_no_age_rule():
    assert failed(replace(APPLICANT, age=None, is_business=True)) == []


@pytest.mark.parametrize(("dti", "passes"), [("0.5", True), ("0.5001", False)])
def test_debt_to_income_at_the_limit_passes(dti, passes):
    assert ("debt_to_income_too_high" not in failed(replace(APPLICANT, debt_to_income=Decimal(dti)))) is passes


@pytest.mark.parametrize(("score", "passes"), [(449, False), (450, True), (None, True)])
def test_credit_score_minimum(score, passes):
    assert ("credit_score_too_low" not in failed(replace(APPLICANT, credit_score=score))) is passes


@pytest.mark.parametrize(
    ("amount", "passes"), [("999.99", False), ("1000", True), ("200000", True), ("200000.01", False)]
)
def test_requested_amount_within_product_and_regulatory_limits(amount, passes):
    applicant = replace(APPLICANT, requested_amount=Decimal(amount))
    assert ("requested_amount_out_of_range" not in failed(applicant)) is passes


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("identity_verified", "identity_not_verified"),
        ("blocked", "blocked"),
        ("delinquent_with_us", "delinquent_with_us"),
        ("delinquent_elsewhere", "delinquent_elsewhere"),
    ],
)
def test_each_flag_rule_has_its_reason_code(field, code):
    flipped = replace(APPLICANT, **{field: not getattr(APPLICANT, field)})
    results = {r.code: r for r in rules_check(flipped, POLICY)}
    assert not results[code].passed and results[code].message


@pytest.mark.parametrize(
    ("pd", "band", "decision"),
    [("0.0199", "A", "approve"), ("0.02", "B", "approve"), ("0.1999", "D", "manual_review"), ("0.2", "E", "decline")],
)
def test_bands_by_pd(pd, band, decision):
    assert band_for(Decimal(pd), POLICY).name == band
    assert band_for(Decimal(pd), POLICY).decision == decision


def offer(pd="0.01", income="12000", requested=None, product_max="200000"):
    return offer_make(
        pd=Decimal(pd),
        policy=POLICY,
        monthly_income=Decimal(income),
        requested_amount=None if requested is None else Decimal(requested),
        product_min_limit=Decimal("1000"),
        product_max_limit=Decimal(product_max),
        product_min_rate=Decimal("0.0002"),
        product_max_rate=Decimal("0.0006"),
    )


def test_limit_is_capped_at_a_third_of_annual_income():
    result = offer(income="12000")  # 4 × 12,000 = 48,000 but a third of 144,000 is 47,995.20
    assert result.limit == Decimal("47900.00")
    assert "annual income" in result.limit_reason


def test_limit_never_exceeds_the_regulatory_cap():
    assert offer(income="1000000").limit == REGULATORY_MAX_LIMIT


def test_limit_follows_a_smaller_request():
    result = offer(requested="8000")
    assert result.limit == Decimal("8000.00") and result.limit_reason == "the amount requested"


def test_a_limit_below_the_product_minimum_is_a_decline():
    result = offer(income="200")
    assert result.decision == "decline" and "below the product minimum" in result.limit_reason


@given(
    pd=st.decimals(min_value=0, max_value=1, places=6),
    income=st.decimals(min_value=1, max_value=10_000_000, places=2),
    requested=st.one_of(st.none(), st.decimals(min_value=1000, max_value=200000, places=2)),
)
def test_offers_stay_within_every_cap(pd, income, requested):
    result = offer(pd=str(pd), income=str(income), requested=None if requested is None else str(requested))
    if result.decision == "decline":
        assert result.limit is None
        return
    assert Decimal("1000") <= result.limit <= REGULATORY_MAX_LIMIT
    assert result.limit <= income * 12 * POLICY.income_cap_ratio
    assert requested is None or result.limit <= requested
    assert result.limit % POLICY.limit_step == 0
    assert Decimal("0.0002") <= result.daily_rate <= Decimal("0.0006")


def test_policy_round_trips_through_its_record():
    assert Policy.from_record(POLICY.as_record()) == POLICY
