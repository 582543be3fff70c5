"""Manual review: approve or decline with notes, four eyes above the threshold, everything in history."""

from decimal import Decimal

import pytest

from core.errors import DomainError
from lending.models import CreditLine
from underwriting.models import Application, ApplicationReview
from underwriting.selectors import rule_settings_get
from underwriting.services import application_review

REVIEW = {
    "credit_score": 620,
    "monthly_income": "6000.00",
    "months_on_platform": 6,
    "monthly_obligations": "1200.00",
    "existing_debt": "20000.00",
    "other_lenders": 3,
    "identity_verified": True,
    "device_verified": False,
}


@pytest.fixture
def in_review(borrower, submit):
    application = submit(borrower, REVIEW)
    assert application.state == Application.State.MANUAL_REVIEW
    return application


@pytest.fixture
def reviewers(django_user_model):
    return [django_user_model.objects.create_user(username=f"reviewer{i}") for i in (1, 2)]


@pytest.fixture
def four_eyes_at(db):
    def set_threshold(amount: str):
        settings = rule_settings_get()
        settings.four_eyes_limit = Decimal(amount)
        settings.save()

    return set_threshold


def test_one_reviewer_approves_a_limit_at_or_below_the_threshold(in_review, reviewers):
    application = application_review(
        application_id=in_review.pk, reviewer=reviewers[0], verdict="approve", notes="income verified by payslip"
    )
    assert application.state == Application.State.APPROVED
    assert application.credit_line.state == CreditLine.State.ACTIVE
    assert application.credit_line.limit == in_review.offered_limit


def test_above_the_threshold_a_second_reviewer_is_needed(in_review, reviewers, four_eyes_at):
    four_eyes_at("5000")
    first = application_review(
        application_id=in_review.pk, reviewer=reviewers[0], verdict="approve", notes="ok", limit=Decimal("6000")
    )
    assert first.state == Application.State.MANUAL_REVIEW and first.credit_line is None
    with pytest.raises(DomainError) as caught:
        application_review(
            application_id=in_review.pk, reviewer=reviewers[0], verdict="approve", notes="again", limit=Decimal("6000")
        )
    assert caught.value.code == "four_eyes"
    second = application_review(
        application_id=in_review.pk, reviewer=reviewers[1], verdict="approve", notes="agree", limit=Decimal("6000")
    )
    assert second.state == Application.State.APPROVED and second.credit_line.limit == Decimal("6000")
    assert list(ApplicationReview.objects.values_list("reviewer__username", flat=True)) == ["reviewer1", "reviewer2"]
    assert {h.history_change_reason for h in second.history.all()} >= {
        "first approval by reviewer1; a second reviewer is needed",
        "approved on review by reviewer2",
    }


def test_a_second_approval_of_different_terms_does_not_count_as_four_eyes(in_review, reviewers, four_eyes_at):
    four_eyes_at("5000")
    application_review(
        application_id=in_review.pk, reviewer=reviewers[0], verdict="approve", notes="ok", limit=Decimal("6000")
    )
    application = application_review(
        application_id=in_review.pk, reviewer=reviewers[1], verdict="approve", notes="more", limit=Decimal("7000")
    )
    assert application.state == Application.State.MANUAL_REVIEW


def test_a_decline_ends_the_review_with_a_reason(in_review, reviewers):
    application = application_review(
        application_id=in_review.pk, reviewer=reviewers[0], verdict="decline", notes="inconsistent income"
    )
    assert application.state == Application.State.DECLINED
    assert application.reasons[0]["code"] == "declined_on_review"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"notes": ""}, "notes"),
        ({"verdict": "maybe"}, "verdict"),
        ({"limit": Decimal("500000")}, "limit"),
        ({"limit": Decimal("24000")}, "limit"),  # above a third of annual income (6,000 × 12 / 3)
        ({"daily_rate": Decimal("0.01")}, "daily_rate"),
    ],
)
def test_bad_review_input_is_refused_and_nothing_written(in_review, reviewers, kwargs, field):
    with pytest.raises(DomainError) as caught:
        application_review(
            **{"application_id": in_review.pk, "reviewer": reviewers[0], "verdict": "approve", "notes": "x", **kwargs}
        )
    assert caught.value.field == field
    assert not ApplicationReview.objects.exists()


def test_a_decided_application_cannot_be_reviewed(borrower, good_data, submit, reviewers):
    application = submit(borrower, good_data)
    with pytest.raises(DomainError) as caught:
        application_review(application_id=application.pk, reviewer=reviewers[0], verdict="approve", notes="x")
    assert caught.value.code == "not_in_review"
