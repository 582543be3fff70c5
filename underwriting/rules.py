"""Hard rules and the decision policy: pure functions over plain values (no ORM).

The settings come from `RuleSettings` (edited by risk staff) as a `Policy`
snapshot, which the decision record stores, so a decision can be replayed
with exactly the rules it was made under.
"""

from dataclasses import asdict, dataclass
from decimal import ROUND_DOWN, Decimal

from core.money import round_rate

# Regulatory caps (DOMAIN.md): at most 200,000 per borrower and at most a third of annual income.
REGULATORY_MAX_LIMIT = Decimal("200000")


@dataclass(frozen=True)
class Band:
    name: str
    max_pd: Decimal  # upper bound, exclusive; the last band should be 1
    decision: str  # "approve", "manual_review" or "decline"
    income_multiple: Decimal  # limit = monthly income × this, before caps
    daily_rate: Decimal


@dataclass(frozen=True)
class Policy:
    min_age: int
    max_age: int
    max_debt_to_income: Decimal
    min_credit_score: int
    income_cap_ratio: Decimal
    limit_step: Decimal
    bands: tuple[Band, ...]

    def as_record(self) -> dict:
        return jsonable(asdict(self))

    @classmethod
    def from_record(cls, record: dict) -> "Policy":
        bands = tuple(
            Band(
                name=b["name"],
                max_pd=Decimal(b["max_pd"]),
                decision=b["decision"],
                income_multiple=Decimal(b["income_multiple"]),
                daily_rate=Decimal(b["daily_rate"]),
            )
            for b in record["bands"]
        )
        return cls(
            min_age=record["min_age"],
            max_age=record["max_age"],
            max_debt_to_income=Decimal(record["max_debt_to_income"]),
            min_credit_score=record["min_credit_score"],
            income_cap_ratio=Decimal(record["income_cap_ratio"]),
            limit_step=Decimal(record["limit_step"]),
            bands=bands,
        )


def jsonable(value):
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


@dataclass(frozen=True)
class Applicant:
    """What the hard rules look at, gathered by the service from the application and the book."""

    age: int | None  # None for a micro-business
    is_business: bool
    identity_verified: bool
    blocked: bool
    debt_to_income: Decimal
    credit_score: int | None
    delinquent_with_us: bool
    delinquent_elsewhere: bool
    requested_amount: Decimal | None
    product_min_limit: Decimal
    product_max_limit: Decimal


@dataclass(frozen=True)
class RuleResult:
    code: str
    passed: bool
    message: str  # readable by the borrower


def rules_check(applicant: Applicant, policy: Policy) -> list[RuleResult]:
    """Every hard rule with its outcome, in a stable order; a failing rule's code is its reason code."""
    a = applicant
    max_amount = min(a.product_max_limit, REGULATORY_MAX_LIMIT)
    checks = [
        (
            "age_out_of_range",
            a.is_business or (a.age is not None and policy.min_age <= a.age <= policy.max_age),
            f"Applicants must be between {policy.min_age} and {policy.max_age} years old.",
        ),
        ("identity_not_verified", a.identity_verified, "Your identity could not be verified."),
        ("blocked", not a.blocked, "We cannot offer credit to this applicant."),
        (
            "debt_to_income_too_high",
            a.debt_to_income <= policy.max_debt_to_income,
            f"Your monthly debt payments exceed {policy.max_debt_to_income:.0%} of your income.",
        ),
        (
            "credit_score_too_low",
            a.credit_score is None or a.credit_score >= policy.min_credit_score,
            f"Your credit score is below {policy.min_credit_score}.",
        ),
        ("delinquent_with_us", not a.delinquent_with_us, "You have an overdue or written-off loan with us."),
        ("delinquent_elsewhere", not a.delinquent_elsewhere, "You have an overdue debt with another lender."),
        (
            "requested_amount_out_of_range",
            a.requested_amount is None or a.product_min_limit <= a.requested_amount <= max_amount,
            f"The amount requested must be between {a.product_min_limit} and {max_amount}.",
        ),
    ]
    return [RuleResult(code=code, passed=bool(passed), message=message) for code, passed, message in checks]


@dataclass(frozen=True)
class Offer:
    decision: str  # approve | manual_review | decline
    band: str
    limit: Decimal | None
    daily_rate: Decimal | None
    limit_reason: str  # which bound set the limit (readable)


def band_for(pd: Decimal, policy: Policy) -> Band:
    for band in policy.bands:
        if pd < band.max_pd:
            return band
    return policy.bands[-1]


def offer_make(
    *,
    pd: Decimal,
    policy: Policy,
    monthly_income: Decimal,
    requested_amount: Decimal | None,
    product_min_limit: Decimal,
    product_max_limit: Decimal,
    product_min_rate: Decimal,
    product_max_rate: Decimal,
) -> Offer:
    """PD → band → decision, limit and daily rate, within the product's bounds and the regulatory caps.

    The limit is the smallest of: income × the band's multiple, the product
    maximum, 200,000, the income cap (⅓ of annual income by default) and the
    amount requested; rounded down to the limit step. Below the product
    minimum there is nothing to offer, so the decision becomes a decline.
    """
    band = band_for(pd, policy)
    if band.decision == "decline":
        return Offer(decision="decline", band=band.name, limit=None, daily_rate=None, limit_reason="")
    candidates = [
        (monthly_income * band.income_multiple, f"{band.income_multiple} × monthly income for risk band {band.name}"),
        (product_max_limit, "the product's maximum limit"),
        (REGULATORY_MAX_LIMIT, "the regulatory maximum of 200,000"),
        (monthly_income * 12 * policy.income_cap_ratio, f"{policy.income_cap_ratio:.4g} of annual income"),
    ]
    if requested_amount is not None:
        candidates.append((requested_amount, "the amount requested"))
    raw_limit, limit_reason = min(candidates, key=lambda c: c[0])
    limit = (raw_limit / policy.limit_step).to_integral_value(rounding=ROUND_DOWN) * policy.limit_step
    if limit < product_min_limit:
        return Offer(
            decision="decline",
            band=band.name,
            limit=None,
            daily_rate=None,
            limit_reason=f"the limit allowed by {limit_reason} is below the product minimum {product_min_limit}",
        )
    rate = round_rate(min(max(band.daily_rate, product_min_rate), product_max_rate))
    return Offer(
        decision=band.decision, band=band.name, limit=limit.quantize(Decimal("0.01")), daily_rate=rate,
        limit_reason=limit_reason,
    )  # fmt: skip
