"""Drawdown screening: alerts fire on the patterns, held drawdowns wait for staff; score drift per month."""

from decimal import Decimal

import pytest

from core.errors import DomainError
from lending.models import CreditLine, Loan
from underwriting.models import DrawdownAlert
from underwriting.monitoring import drawdown_alert_reject, drawdown_alert_release, drawdown_request
from underwriting.selectors import rule_settings_get


@pytest.fixture
def line(borrower, good_data, submit) -> CreditLine:
    return submit(borrower, good_data).credit_line


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(username="risk")


def draw(line, amount, **kwargs):
    return drawdown_request(credit_line_id=line.pk, amount=amount, term_months=6, method="equal_installment", **kwargs)


def test_an_ordinary_drawdown_is_paid_out_without_alerts(line):
    loan, alerts = draw(line, Decimal("5000"))
    assert alerts == [] and loan.state == Loan.State.CURRENT


def test_drawing_the_full_limit_right_after_approval_is_held(line):
    loan, alerts = draw(line, line.limit)
    assert [a.rule for a in alerts] == [DrawdownAlert.Rule.FAST_FULL_DRAW]
    assert loan.state == Loan.State.PENDING and alerts[0].held


def test_many_drawdowns_in_a_short_window_raise_an_alert(line):
    draw(line, Decimal("1000"))
    draw(line, Decimal("1000"))
    _, alerts = draw(line, Decimal("1000"))
    assert [a.rule for a in alerts] == [DrawdownAlert.Rule.BURST]


def test_many_borrowers_on_one_device_raise_an_alert(make_borrower, good_data, submit):
    lines = [submit(make_borrower(), {**good_data, "device_id": "shared-phone"}).credit_line for _ in range(3)]
    _, alerts = draw(lines[0], Decimal("1000"), device_id="shared-phone")
    assert [a.rule for a in alerts] == [DrawdownAlert.Rule.SHARED_DEVICE]


def test_releasing_a_held_drawdown_pays_it_out(line, staff):
    loan, alerts = draw(line, line.limit)
    drawdown_alert_release(alert_id=alerts[0].pk, actor=staff)
    loan.refresh_from_db()
    assert loan.state == Loan.State.CURRENT
    assert DrawdownAlert.objects.get().state == DrawdownAlert.State.RELEASED
    with pytest.raises(DomainError):
        drawdown_alert_release(alert_id=alerts[0].pk, actor=staff)


def test_rejecting_a_held_drawdown_cancels_it_and_frees_the_limit(line, staff):
    loan, alerts = draw(line, line.limit)
    drawdown_alert_reject(alert_id=alerts[0].pk, reason="mule pattern", actor=staff)
    loan.refresh_from_db()
    assert loan.state == Loan.State.CANCELLED and CreditLine.objects.get(pk=line.pk).used == 0


def test_thresholds_come_from_the_rule_settings(line):
    settings = rule_settings_get()
    settings.fast_full_draw_share = Decimal("0.1")
    settings.save()
    _, alerts = draw(line, Decimal("5000"))
    assert [a.rule for a in alerts] == [DrawdownAlert.Rule.FAST_FULL_DRAW]


def test_a_bad_amount_is_refused_before_screening(line):
    with pytest.raises(DomainError) as caught:
        draw(line, "lots")
    assert caught.value.field == "amount" and not DrawdownAlert.objects.exists()
