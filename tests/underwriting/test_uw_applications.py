"""Submitting applications: decisions, reasons, the credit line on approval, reproducibility, bad input."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from core import pii
from core.errors import DomainError
from lending.models import CreditLine, CreditLineChange
from underwriting.models import Application, BlockListEntry
from underwriting.services import (
    application_decision_replay,
    application_withdraw,
    applications_expire,
    block_list_add,
)

# The built-in scorecard puts this applicant at a PD of about 17 %: band D, manual review.
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
RISKY = {
    "credit_score": 520,
    "monthly_income": "6000.00",
    "months_on_platform": 2,
    "monthly_obligations": "2400.00",
    "existing_debt": "60000.00",
    "other_lenders": 6,
    "identity_verified": True,
    "device_verified": False,
}


def test_a_sound_application_is_approved_and_opens_the_line(borrower, good_data, submit):
    application = submit(borrower, good_data)
    assert application.state == Application.State.APPROVED
    line = application.credit_line
    assert line.state == CreditLine.State.ACTIVE
    assert (line.limit, line.daily_rate) == (application.offered_limit, application.offered_rate)
    assert application.band == "A" and application.scorer == "builtin-scorecard-v1"
    assert CreditLineChange.objects.filter(credit_line=line, reason="approved by underwriting, band A").exists()


def test_a_failing_rule_declines_with_its_reason_code(make_borrower, good_data, submit):
    application = submit(make_borrower(born=date(2014, 1, 1)), good_data)
    assert application.state == Application.State.DECLINED
    assert application.reasons[0]["code"] == "age_out_of_range"
    assert application.credit_line is None


def test_every_decline_carries_readable_reasons(make_borrower, good_data, submit):
    declines = [
        submit(make_borrower(), {**RISKY, "credit_score": 350}),
        submit(make_borrower(), {**good_data, "identity_verified": False}),
        submit(make_borrower(), {**good_data, "monthly_income": "200.00", "monthly_obligations": "0"}),
    ]
    for application in declines:
        assert application.state == Application.State.DECLINED
        assert application.reasons and all(r["code"] and r["message"] for r in application.reasons)


def test_high_risk_goes_to_manual_review_with_adverse_factors(borrower, submit):
    application = submit(borrower, REVIEW)
    assert application.state == Application.State.MANUAL_REVIEW, application.pd
    codes = [r["code"] for r in application.reasons]
    assert codes[0] == "referred_for_review" and any(code.startswith("factor_") for code in codes[1:])


def test_a_blocked_device_is_declined(borrower, good_data, submit):
    BlockListEntry.objects.create(kind=BlockListEntry.Kind.DEVICE, value="dev-good", reason="fraud ring")
    application = submit(borrower, good_data)
    assert [r["code"] for r in application.reasons][0] == "blocked"


def test_the_decision_replays_from_the_stored_record(make_borrower, good_data, submit):
    for data in (good_data, RISKY, {**good_data, "credit_score": 400}):
        application = Application.objects.get(pk=submit(make_borrower(), data).pk)
        replay = application_decision_replay(application)
        assert replay.outcome == application.automated_decision
        assert (replay.pd, replay.band) == (application.pd, application.band)
        assert (replay.limit, replay.daily_rate) == (application.offered_limit, application.offered_rate)
        assert replay.reasons == application.reasons and replay.features == application.features


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"data": {"monthly_income": "abc"}}, "monthly_income"),
        ({"requested_amount": Decimal("-1")}, "requested_amount"),
        ({"consent_at": None}, "consent_at"),
        ({"consent_at": datetime(2031, 1, 15, 9, 0)}, "consent_at"),  # naive
        ({"consent_scope": "  "}, "consent_scope"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(borrower, good_data, submit, kwargs, field):
    kwargs = {"data": good_data, **kwargs}
    with pytest.raises(DomainError) as caught:
        submit(borrower, kwargs.pop("data"), **kwargs)
    assert caught.value.field == field
    assert not Application.objects.exists() and not CreditLine.objects.exists()


def test_consent_after_the_business_date_is_refused(borrower, good_data, submit):
    with pytest.raises(DomainError) as caught:
        submit(borrower, good_data, consent_at=datetime.fromisoformat("2031-01-17T10:00:00+08:00"))
    assert caught.value.code == "consent_in_future"


def test_another_partners_borrower_is_refused(make_borrower, other_partner, good_data, submit):
    with pytest.raises(DomainError) as caught:
        submit(make_borrower(via=other_partner), good_data)
    assert caught.value.field == "borrower"


def test_a_borrower_with_a_line_cannot_apply_again(borrower, good_data, submit):
    submit(borrower, good_data)
    with pytest.raises(DomainError) as caught:
        submit(borrower, good_data)
    assert caught.value.code == "line_exists"


def test_an_application_in_review_can_be_withdrawn(borrower, submit):
    application = submit(borrower, REVIEW)
    withdrawn = application_withdraw(application_id=application.pk, reason="borrower changed their mind")
    assert withdrawn.state == Application.State.WITHDRAWN
    assert withdrawn.history.first().history_change_reason == "borrower changed their mind"


def test_a_blocked_mobile_is_declined(borrower, good_data, submit):
    block_list_add(kind="mobile", identifier=pii.decrypt(borrower.mobile_encrypted), reason="confirmed fraud")
    application = submit(borrower, good_data)
    assert application.state == Application.State.DECLINED and application.reasons[0]["code"] == "blocked"


def test_a_bad_block_list_identifier_names_the_field(db):
    with pytest.raises(DomainError) as caught:
        block_list_add(kind="national_id", identifier="12345", reason="typo")
    assert caught.value.field == "identifier" and not BlockListEntry.objects.exists()


def test_reviews_left_too_long_expire_at_the_close(borrower, submit, start_date):
    application = submit(borrower, REVIEW)
    assert applications_expire(business_date=start_date + timedelta(days=29)) == 0
    assert applications_expire(business_date=start_date + timedelta(days=30)) == 1
    application.refresh_from_db()
    assert application.state == Application.State.EXPIRED
