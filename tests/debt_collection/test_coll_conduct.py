"""Conduct rules at their boundaries, enforced by the contact-attempt service."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import DomainError
from debt_collection import conduct
from debt_collection.models import ContactAttempt, PromiseToPay
from debt_collection.services import contact_attempt_log

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(hour: int, minute: int = 0, *, day: int = 17, zone=SHANGHAI) -> datetime:
    """A moment on a past wall-clock day: attempts run on the real clock, not the (2031) business date."""
    return datetime(2025, 6, day, hour, minute, tzinfo=zone)


@pytest.fixture
def case(loan, collector, close_to, case_of):
    close_to(date(2031, 2, 17))
    return case_of(loan)


def log(case, collector, moment, **kwargs):
    kwargs.setdefault("channel", "call")
    kwargs.setdefault("outcome", "connected")
    return contact_attempt_log(case_id=case.pk, collector=collector, attempted_at=moment, **kwargs)


def refused_rule(case, collector, moment, **kwargs) -> str:
    before = ContactAttempt.objects.count()
    with pytest.raises(DomainError) as refused:
        log(case, collector, moment, **kwargs)
    assert ContactAttempt.objects.count() == before
    return refused.value.code


def test_third_connected_call_of_the_day_is_allowed_and_the_fourth_refused(case, collector, make_collector):
    other = make_collector("zhao.collector")
    log(case, collector, at(9))
    log(case, other, at(10))  # across all collectors
    log(case, collector, at(11))
    assert refused_rule(case, other, at(12)) == "daily_call_limit"


def test_unanswered_calls_and_messages_do_not_count_towards_the_call_limit(case, collector):
    for hour in (9, 10, 11):
        log(case, collector, at(hour))
    log(case, collector, at(12), outcome="no_answer")
    log(case, collector, at(13), channel="sms", outcome="delivered")
    assert ContactAttempt.objects.count() == 5


def test_the_call_limit_counts_the_debtors_local_day(case, collector):
    for hour in (9, 10, 11):
        log(case, collector, at(hour))
    log(case, collector, at(8, day=18))  # the next local day
    # 23:30 UTC on the 17th is 07:30 on the 18th in Shanghai: quiet time there.
    assert refused_rule(case, collector, datetime(2025, 6, 17, 23, 30, tzinfo=ZoneInfo("UTC"))) == "quiet_hours"


@pytest.mark.parametrize(("hour", "minute"), [(7, 59), (22, 0), (23, 0), (0, 0)])
def test_contact_in_quiet_hours_is_refused(case, collector, hour, minute):
    assert refused_rule(case, collector, at(hour, minute)) == "quiet_hours"


@pytest.mark.parametrize(("hour", "minute"), [(8, 0), (21, 59)])
def test_contact_at_the_edges_of_the_day_is_allowed(case, collector, hour, minute):
    assert log(case, collector, at(hour, minute)).pk


def test_quiet_hours_follow_the_case_time_zone(case, collector):
    case.time_zone = "Asia/Urumqi"  # UTC+6: 08:30 in Shanghai is 06:30 there
    case.save(update_fields=["time_zone"])
    assert refused_rule(case, collector, at(8, 30)) == "quiet_hours"
    assert log(case, collector, at(10, 0))


def test_contacting_a_third_party_is_refused(case, collector):
    assert refused_rule(case, collector, at(10), party="third_party") == "debtor_only"


def test_a_letter_at_night_is_refused_too(case, collector):
    assert refused_rule(case, collector, at(23), channel="letter", outcome="delivered") == "quiet_hours"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"channel": "pigeon"}, "invalid_choice"),
        ({"outcome": "maybe"}, "invalid_choice"),
        ({"attempted_at": datetime(2025, 6, 17, 10)}, "invalid_time"),
        ({"outcome": "promise"}, "required"),
        ({"outcome": "promise", "promise_amount": "-5", "promise_date": date(2031, 2, 20)}, "amount_not_positive"),
        (
            {"outcome": "promise", "promise_amount": "500", "promise_date": date(2031, 2, 16)},
            "promise_date_out_of_range",
        ),
        ({"outcome": "connected", "promise_amount": "500"}, "promise_without_outcome"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(case, collector, changes, code):
    kwargs = {"channel": "call", "outcome": "connected", "attempted_at": at(10), **changes}
    with pytest.raises(DomainError) as refused:
        contact_attempt_log(case_id=case.pk, collector=collector, **kwargs)
    assert refused.value.code == code
    assert not ContactAttempt.objects.exists()
    assert not PromiseToPay.objects.exists()


def test_only_collectors_log_attempts(case, manager):
    with pytest.raises(DomainError) as refused:
        log(case, manager, at(10))
    assert (refused.value.code, refused.value.field) == ("not_a_collector", "collector")


def test_an_attempt_in_the_future_is_refused(case, collector):
    from django.utils import timezone

    with pytest.raises(DomainError) as refused:
        log(case, collector, timezone.now() + timedelta(minutes=5))
    assert refused.value.code == "time_in_future"


@given(minutes=st.integers(min_value=0, max_value=24 * 60 - 1))
def test_the_quiet_hours_rule_is_exactly_22_to_8(minutes):
    moment = datetime(2031, 2, 17, tzinfo=SHANGHAI) + timedelta(minutes=minutes)
    refusal = conduct.contact_refusal(
        moment=moment, time_zone="Asia/Shanghai", party="debtor", channel="sms", outcome="delivered",
        connected_calls_today=0,
    )  # fmt: skip
    assert (refusal is None) == (8 * 60 <= minutes < 22 * 60)


@given(minutes=st.integers(min_value=0, max_value=24 * 60 - 1), calls=st.integers(min_value=0, max_value=5))
def test_next_allowed_contact_is_itself_allowed_and_never_earlier_than_now(minutes, calls):
    now = datetime(2031, 2, 17, tzinfo=SHANGHAI) + timedelta(minutes=minutes)
    allowed = conduct.next_allowed_contact(now=now, time_zone="Asia/Shanghai", connected_calls_today=calls)
    assert allowed >= now
    calls_then = calls if allowed.date() == now.date() else 0
    assert (
        conduct.contact_refusal(
            moment=allowed,
            time_zone="Asia/Shanghai",
            party="debtor",
            channel="call",
            outcome="connected",
            connected_calls_today=calls_then,
        )  # fmt: skip
        is None
    )
