"""Application data: what a partner may send, checked field by field, and the feature vector the model scores.

Pure: no ORM. `application_data_clean` turns the partner's payload into a
canonical dict (amounts as fen-exact decimal strings, so the stored record
reproduces the features exactly) or raises DomainError naming the field.
`features_build` maps that dict to the model's features; a missing value
is filled with a stated neutral value and flagged by a `*_missing` feature,
never silently dropped.
"""

import math
from dataclasses import dataclass
from decimal import Decimal

from core.errors import DomainError
from core.money import MoneyTypeError, as_decimal, is_fen_exact
from core.validation import MAX_AMOUNT


@dataclass(frozen=True)
class Field:
    kind: str  # "money", "int", "bool", "text"
    required: bool = False
    minimum: int | None = None
    maximum: int | None = None
    business_only: bool = False


# The payload a partner sends with an application (the REST API documents the same list).
FIELDS: dict[str, Field] = {
    "credit_score": Field("int", minimum=350, maximum=950),
    "monthly_income": Field("money", required=True),
    "monthly_inflow": Field("money"),
    "monthly_outflow": Field("money"),
    "months_on_platform": Field("int", required=True, minimum=0, maximum=600),
    "existing_debt": Field("money"),
    "monthly_obligations": Field("money"),
    "other_lenders": Field("int", minimum=0, maximum=100),
    "identity_verified": Field("bool", required=True),
    "device_verified": Field("bool"),
    "device_id": Field("text", maximum=100),
    "delinquent_elsewhere": Field("bool"),
    "business_age_months": Field("int", minimum=0, maximum=1200, business_only=True),
    "monthly_turnover": Field("money", business_only=True),
}

# Neutral fills for missing optional values (the *_missing flags carry the fact that they were missing).
CREDIT_SCORE_FILL = 600


def _money(value, name: str, *, positive: bool) -> str:
    if isinstance(value, bool) or isinstance(value, float):
        # JSON numbers with a fraction arrive as floats; amounts must come as strings or integers.
        raise DomainError("invalid_amount", "must be a decimal string or an integer amount", field=name)
    try:
        amount = as_decimal(value)
    except MoneyTypeError:
        raise DomainError("invalid_amount", "must be a decimal number", field=name) from None
    if amount < 0 or (positive and amount == 0):
        raise DomainError("amount_not_positive" if positive else "amount_negative", "is out of range", field=name)
    if amount > MAX_AMOUNT:
        raise DomainError("amount_too_large", f"must not exceed {MAX_AMOUNT}", field=name)
    if not is_fen_exact(amount):
        raise DomainError("amount_too_precise", "must have at most two decimal places (fen)", field=name)
    return str(amount.quantize(Decimal("0.01")))


def _int(value, name: str, spec: Field) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError("invalid_integer", "must be a whole number", field=name)
    if not spec.minimum <= value <= spec.maximum:
        raise DomainError("out_of_range", f"must be between {spec.minimum} and {spec.maximum}", field=name)
    return value


def application_data_clean(raw, *, is_business: bool) -> dict:
    """The canonical application data, or DomainError naming the first bad field."""
    if not isinstance(raw, dict):
        raise DomainError("invalid_data", "must be an object of application fields", field="data")
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise DomainError("unknown_field", f"is not an application field ({', '.join(FIELDS)})", field=unknown[0])
    clean: dict = {}
    for name, spec in FIELDS.items():
        value = raw.get(name)
        if value is None:
            if spec.required:
                raise DomainError("required", "is required", field=name)
            continue
        if spec.business_only and not is_business:
            raise DomainError("business_only", "applies to micro-business borrowers only", field=name)
        if spec.kind == "money":
            clean[name] = _money(value, name, positive=spec.required)
        elif spec.kind == "int":
            clean[name] = _int(value, name, spec)
        elif spec.kind == "bool":
            if not isinstance(value, bool):
                raise DomainError("invalid_boolean", "must be true or false", field=name)
            clean[name] = value
        else:
            if not isinstance(value, str) or len(value) > spec.maximum:
                raise DomainError("invalid_text", f"must be text of at most {spec.maximum} characters", field=name)
            clean[name] = value.strip()
    return clean


def monthly_debt_to_income(data: dict) -> Decimal:
    """Monthly obligations over monthly income (the hard rule's ratio)."""
    return Decimal(data.get("monthly_obligations", "0")) / Decimal(data["monthly_income"])


# The model's inputs, in order. Changing this list means training a new model version.
FEATURE_NAMES = (
    "credit_score",
    "credit_score_missing",
    "log_monthly_income",
    "debt_to_income",
    "debt_to_annual_income",
    "net_flow_ratio",
    "flow_missing",
    "months_on_platform",
    "other_lenders",
    "device_verified",
    "is_business",
    "business_age_years",
)


def features_build(data: dict, *, is_business: bool) -> dict[str, float]:
    """Features from clean application data; every missing input is filled and flagged explicitly."""
    income = float(data["monthly_income"])
    score = data.get("credit_score")
    inflow, outflow = data.get("monthly_inflow"), data.get("monthly_outflow")
    flow_missing = inflow is None or outflow is None
    net_flow = 0.0 if flow_missing else (float(inflow) - float(outflow)) / max(float(inflow), 1.0)
    return {
        "credit_score": float(CREDIT_SCORE_FILL if score is None else score),
        "credit_score_missing": float(score is None),
        "log_monthly_income": math.log(max(income, 1.0)),
        "debt_to_income": min(float(data.get("monthly_obligations", "0")) / income, 5.0),
        "debt_to_annual_income": min(float(data.get("existing_debt", "0")) / (12 * income), 10.0),
        "net_flow_ratio": max(min(net_flow, 1.0), -1.0),
        "flow_missing": float(flow_missing),
        "months_on_platform": float(min(data["months_on_platform"], 120)),
        "other_lenders": float(min(data.get("other_lenders", 0), 10)),
        "device_verified": float(bool(data.get("device_verified", False))),
        "is_business": float(is_business),
        "business_age_years": min(data.get("business_age_months", 0), 240) / 12.0,
    }


# What a borrower reads when a feature pushed the decision against them.
ADVERSE_MESSAGES = {
    "credit_score": "Your credit score is low.",
    "credit_score_missing": "No credit score was available.",
    "log_monthly_income": "Your income is low for the credit requested.",
    "debt_to_income": "Your monthly debt payments are high compared with your income.",
    "debt_to_annual_income": "Your existing debt is high compared with your income.",
    "net_flow_ratio": "Your account spending is high compared with what comes in.",
    "flow_missing": "No account inflow and outflow history was available.",
    "months_on_platform": "Your history on the platform is short.",
    "other_lenders": "You borrow from many other lenders.",
    "device_verified": "Your device could not be verified.",
    "is_business": "Micro-business credit carries more risk.",
    "business_age_years": "Your business is young.",
}
