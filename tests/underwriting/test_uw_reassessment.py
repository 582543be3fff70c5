"""Limit reassessment: the vectorised policy (pure) and the recorded changes on real lines."""

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest

from core.business_date import business_date_current, business_date_set
from core.errors import DomainError
from lending.models import CreditLine, CreditLineChange
from lending.services.credit_lines import credit_lines_reassess
from lending.services.loans import loan_drawdown
from underwriting.limits import limits_reassess
from underwriting.models import LimitReview
from underwriting.reassessment import FREEZE, KEEP, LOWER, RAISE, Lines, Params, reassess
from underwriting.selectors import rule_settings_get

PARAMS = Params(
    raise_pd=0.02, lower_pd=0.15, freeze_pd=0.5, raise_utilisation=0.5, step=0.2, income_cap_ratio=0.3333,
    limit_step=100,
)  # fmt: skip


def lines(**overrides):
    base = {
        "limit": [20000.0],
        "used": [12000.0],
        "application_pd": [0.01],
        "months_on_book": [6.0],
        "late_episodes": [0.0],
        "severe_episodes": [0.0],
        "overdue_now": [False],
        "monthly_income": [15000.0],
        "product_min": [1000.0],
        "product_max": [200000.0],
    }
    base.update(overrides)
    return Lines(**{k: np.array(v, dtype=bool if k == "overdue_now" else float) for k, v in base.items()})


def test_a_clean_well_used_line_is_raised_by_the_step():
    action, new_limit, _ = reassess(lines(), PARAMS)
    assert action[0] == RAISE and new_limit[0] == 24000


def test_a_raise_stops_at_a_third_of_annual_income():
    action, new_limit, _ = reassess(lines(limit=[59000.0], used=[40000.0]), PARAMS)
    assert action[0] == RAISE and new_limit[0] == 59900  # 15,000 × 12 × 0.3333 = 59,994


def test_a_line_at_its_income_cap_is_left_alone():
    action, _, _ = reassess(lines(limit=[59900.0], used=[40000.0]), PARAMS)
    assert action[0] == KEEP


def test_a_little_used_or_young_line_is_not_raised():
    assert reassess(lines(used=[1000.0]), PARAMS)[0][0] == KEEP
    assert reassess(lines(months_on_book=[2.0]), PARAMS)[0][0] == KEEP


def test_late_payments_lower_and_serious_delinquency_freezes():
    action, new_limit, pd = reassess(lines(late_episodes=[2.0], application_pd=[0.05]), PARAMS)
    assert action[0] == LOWER and new_limit[0] == 16000 and pd[0] >= 0.15
    action, _, _ = reassess(lines(severe_episodes=[2.0], late_episodes=[1.0], application_pd=[0.05]), PARAMS)
    assert action[0] == FREEZE


def test_a_lowered_limit_never_goes_below_the_product_minimum():
    action, new_limit, _ = reassess(lines(limit=[1000.0], used=[0.0], late_episodes=[3.0]), PARAMS)
    assert action[0] == KEEP and new_limit[0] == 1000


@pytest.fixture
def drawn_line(borrower, good_data, submit):
    # A limit of 20,000 (as requested), well below the income cap, 60 % drawn.
    application = submit(borrower, good_data, requested_amount=Decimal("20000"))
    line = application.credit_line
    loan_drawdown(credit_line_id=line.pk, amount=Decimal("12000"), term_months=12, method="equal_installment")
    return line


def test_reassessment_raises_a_good_line_and_records_why(drawn_line):
    business_date_set(new_date=business_date_current() + timedelta(days=120), reason="time on book")
    counts = limits_reassess()
    assert counts == {"scored": 1, "raise": 1, "lower": 0, "freeze": 0}
    line = CreditLine.objects.get(pk=drawn_line.pk)
    review = LimitReview.objects.get(credit_line=line)
    assert review.action == "raise" and review.old_limit == drawn_line.limit and review.new_limit == line.limit
    assert line.limit > drawn_line.limit and review.reasons
    change = CreditLineChange.objects.filter(credit_line=line, field="limit").get()
    assert change.reason.startswith("periodic reassessment: raise")
    assert line.history.first().history_change_reason.startswith("periodic reassessment")


def test_a_second_run_the_same_day_changes_nothing(drawn_line):
    business_date_set(new_date=business_date_current() + timedelta(days=120), reason="time on book")
    limits_reassess()
    assert limits_reassess() == {"scored": 0, "raise": 0, "lower": 0, "freeze": 0}
    assert LimitReview.objects.count() == 1


def test_a_dry_run_writes_nothing(drawn_line):
    business_date_set(new_date=business_date_current() + timedelta(days=120), reason="time on book")
    assert limits_reassess(dry_run=True)["raise"] == 1
    assert not LimitReview.objects.exists()
    assert CreditLine.objects.get(pk=drawn_line.pk).limit == drawn_line.limit


def test_a_stricter_policy_lowers_and_freezes_lines(drawn_line):
    settings = rule_settings_get()
    settings.reassess_lower_pd = Decimal("0.0001")
    settings.save()
    assert limits_reassess()["lower"] == 1
    line = CreditLine.objects.get(pk=drawn_line.pk)
    assert line.limit < drawn_line.limit and line.state == CreditLine.State.ACTIVE


def test_the_bulk_lending_service_freezes_and_records(drawn_line):
    assert credit_lines_reassess(new_limits={}, freeze={drawn_line.pk}, reason="periodic reassessment: test") == 1
    line = CreditLine.objects.get(pk=drawn_line.pk)
    assert line.state == CreditLine.State.FROZEN and not line.frozen_for_delinquency
    change = CreditLineChange.objects.filter(credit_line=line, field="state").last()
    assert (change.old_value, change.new_value) == ("active", "frozen")
    assert line.history.first().state == "frozen"


def test_the_bulk_lending_service_refuses_a_limit_outside_the_product(drawn_line):
    with pytest.raises(DomainError):
        credit_lines_reassess(new_limits={drawn_line.pk: Decimal("500")}, freeze=set(), reason="test")
    assert CreditLine.objects.get(pk=drawn_line.pk).limit == drawn_line.limit
