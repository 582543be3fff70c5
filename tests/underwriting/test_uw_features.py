"""Application data checks (field errors) and the feature vector's explicit handling of missing values."""

import pytest

from core.errors import DomainError
from underwriting.features import CREDIT_SCORE_FILL, FEATURE_NAMES, application_data_clean, features_build

BASE = {"monthly_income": "8000", "months_on_platform": 12, "identity_verified": True}


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"monthly_income": None}, "monthly_income", "required"),
        ({"monthly_income": "0"}, "monthly_income", "amount_not_positive"),
        ({"monthly_income": "-5"}, "monthly_income", "amount_not_positive"),
        ({"monthly_income": "12.345"}, "monthly_income", "amount_too_precise"),
        ({"monthly_income": "NaN"}, "monthly_income", "invalid_amount"),
        ({"monthly_income": 1e30}, "monthly_income", "invalid_amount"),
        ({"monthly_income": "1e30"}, "monthly_income", "amount_too_large"),
        ({"credit_score": 349}, "credit_score", "out_of_range"),
        ({"credit_score": 951}, "credit_score", "out_of_range"),
        ({"credit_score": "700"}, "credit_score", "invalid_integer"),
        ({"credit_score": True}, "credit_score", "invalid_integer"),
        ({"identity_verified": "yes"}, "identity_verified", "invalid_boolean"),
        ({"other_lenders": -1}, "other_lenders", "out_of_range"),
        ({"device_id": "x" * 101}, "device_id", "invalid_text"),
        ({"business_age_months": 24}, "business_age_months", "business_only"),
        ({"favourite_colour": "red"}, "favourite_colour", "unknown_field"),
    ],
)
def test_bad_data_names_the_field(change, field, code):
    raw = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    with pytest.raises(DomainError) as caught:
        application_data_clean(raw, is_business=False)
    assert (caught.value.field, caught.value.code) == (field, code)


def test_data_must_be_an_object():
    with pytest.raises(DomainError) as caught:
        application_data_clean(["not", "a", "dict"], is_business=False)
    assert caught.value.field == "data"


def test_amounts_are_stored_as_fen_strings():
    assert application_data_clean({**BASE, "existing_debt": 300}, is_business=False)["existing_debt"] == "300.00"


def test_missing_values_are_filled_and_flagged():
    features = features_build(application_data_clean(BASE, is_business=False), is_business=False)
    assert tuple(features) == FEATURE_NAMES
    assert features["credit_score"] == CREDIT_SCORE_FILL and features["credit_score_missing"] == 1.0
    assert features["flow_missing"] == 1.0 and features["net_flow_ratio"] == 0.0
    assert features["debt_to_income"] == 0.0


def test_present_values_are_not_flagged():
    data = {**BASE, "credit_score": 700, "monthly_inflow": "10000", "monthly_outflow": "7500"}
    features = features_build(application_data_clean(data, is_business=False), is_business=False)
    assert features["credit_score_missing"] == 0.0 and features["flow_missing"] == 0.0
    assert features["net_flow_ratio"] == pytest.approx(0.25)
