"""The automated decision: rules, then PD → band → offer, with the reasons a borrower can read. Pure.

`decision_make` takes only values (clean data, the applicant facts the
rules need, the policy snapshot, the scorer, the product's bounds), so the
stored record replays to the same outcome.
"""

from dataclasses import dataclass
from decimal import Decimal

from underwriting.features import features_build
from underwriting.rules import Applicant, Policy, offer_make, rules_check
from underwriting.scoring import LinearScorer

PD_QUANTUM = Decimal("0.00000001")


@dataclass(frozen=True)
class ProductBounds:
    min_limit: Decimal
    max_limit: Decimal
    min_rate: Decimal
    max_rate: Decimal


@dataclass(frozen=True)
class Decision:
    outcome: str  # approve | manual_review | decline
    pd: Decimal
    band: str
    limit: Decimal | None
    daily_rate: Decimal | None
    features: dict
    rule_results: list[dict]
    reasons: list[dict]


def decision_make(
    *,
    data: dict,
    is_business: bool,
    applicant: Applicant,
    policy: Policy,
    scorer: LinearScorer,
    bounds: ProductBounds,
) -> Decision:
    features = features_build(data, is_business=is_business)
    x = scorer.vector(features)
    pd = Decimal(repr(scorer.pd(x))).quantize(PD_QUANTUM)
    results = rules_check(applicant, policy)
    failed = [{"code": r.code, "message": r.message} for r in results if not r.passed]
    factors = scorer.adverse_factors(x)
    offer = offer_make(
        pd=pd,
        policy=policy,
        monthly_income=Decimal(data["monthly_income"]),
        requested_amount=applicant.requested_amount,
        product_min_limit=bounds.min_limit,
        product_max_limit=bounds.max_limit,
        product_min_rate=bounds.min_rate,
        product_max_rate=bounds.max_rate,
    )
    rule_results = [{"code": r.code, "passed": r.passed} for r in results]
    if failed:
        return Decision("decline", pd, offer.band, None, None, features, rule_results, failed + factors)
    if offer.decision == "decline":
        reason = (
            {"code": "limit_below_minimum", "message": f"The limit we can offer is too low: {offer.limit_reason}."}
            if offer.limit_reason
            else {"code": "risk_too_high", "message": "Your estimated risk of not repaying is too high."}
        )
        return Decision("decline", pd, offer.band, None, None, features, rule_results, [reason, *factors])
    reasons = []
    if offer.decision == "manual_review":
        reasons.append({"code": "referred_for_review", "message": "Your application needs a review by our staff."})
    if applicant.requested_amount is not None and offer.limit < applicant.requested_amount:
        reasons.append({"code": "limit_below_request", "message": f"Your limit is set by {offer.limit_reason}."})
    if reasons:
        reasons.extend(factors)
    return Decision(offer.decision, pd, offer.band, offer.limit, offer.daily_rate, features, rule_results, reasons)
