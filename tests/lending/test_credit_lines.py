"""Credit lines: opening, limit and rate changes, freeze and unfreeze, each change recorded with why."""

from decimal import Decimal

import pytest

from core.errors import DomainError
from lending.models import CreditLine, CreditLineChange
from lending.services.credit_lines import (
    credit_line_change_limit,
    credit_line_change_rate,
    credit_line_close,
    credit_line_freeze,
    credit_line_open,
    credit_line_unfreeze,
)

pytestmark = pytest.mark.django_db


def changes(line) -> list[tuple]:
    return list(
        CreditLineChange.objects.filter(credit_line=line).values_list("field", "old_value", "new_value", "reason")
    )


def test_opening_a_line_makes_it_active_and_records_why(line, start_date):
    assert line.state == CreditLine.State.ACTIVE
    assert (line.valid_from, line.used) == (start_date, Decimal("0"))
    assert changes(line) == [("state", "pending", "active", "approved")]


@pytest.mark.parametrize("limit", [Decimal("999.99"), Decimal("200000.01")])
def test_a_line_with_a_limit_outside_the_product_range_is_not_opened(make_line, borrower, limit):
    with pytest.raises(DomainError) as refused:
        make_line(borrower, limit=limit)

    assert (refused.value.code, refused.value.field) == ("limit_out_of_range", "limit")
    assert not CreditLine.objects.exists()
    assert not CreditLineChange.objects.exists()


def test_a_line_with_a_rate_outside_the_product_range_is_not_opened(make_line, borrower):
    with pytest.raises(DomainError) as refused:
        make_line(borrower, daily_rate=Decimal("0.0007"))

    assert (refused.value.code, refused.value.field) == ("rate_out_of_range", "daily_rate")
    assert not CreditLine.objects.exists()


def test_a_limit_change_is_recorded_with_old_and_new_value_and_reason(line, start_date):
    credit_line_change_limit(credit_line_id=line.pk, new_limit=Decimal("80000"), reason="good behaviour")

    assert CreditLine.objects.get(pk=line.pk).limit == Decimal("80000")
    change = CreditLineChange.objects.filter(credit_line=line).last()
    assert (change.field, Decimal(change.old_value), Decimal(change.new_value), change.reason) == (
        "limit",
        Decimal("50000"),
        Decimal("80000"),
        "good behaviour",
    )
    assert change.business_date == start_date


@pytest.mark.parametrize("limit", [Decimal("500"), Decimal("250000"), Decimal("-1")])
def test_a_limit_change_outside_the_product_range_is_refused_and_nothing_changes(line, limit):
    recorded = changes(line)

    with pytest.raises(DomainError) as refused:
        credit_line_change_limit(credit_line_id=line.pk, new_limit=limit, reason="typo")

    assert refused.value.field == "limit"
    assert CreditLine.objects.get(pk=line.pk).limit == Decimal("50000")
    assert changes(line) == recorded


def test_lowering_the_limit_below_what_is_used_is_allowed_but_leaves_nothing_available(make_loan, line):
    make_loan(line, Decimal("30000"))

    credit_line_change_limit(credit_line_id=line.pk, new_limit=Decimal("20000"), reason="risk review")

    lowered = CreditLine.objects.get(pk=line.pk)
    assert (lowered.limit, lowered.used, lowered.available) == (
        Decimal("20000"),
        Decimal("30000"),
        Decimal("0"),
    )


def test_a_rate_change_is_recorded_with_old_and_new_value_and_reason(line):
    credit_line_change_rate(credit_line_id=line.pk, new_daily_rate=Decimal("0.0003"), reason="re-scored")

    assert CreditLine.objects.get(pk=line.pk).daily_rate == Decimal("0.0003")
    field, old, new, reason = changes(line)[-1]
    assert (field, Decimal(old), Decimal(new), reason) == (
        "daily_rate",
        Decimal("0.0004"),
        Decimal("0.0003"),
        "re-scored",
    )


def test_a_rate_change_does_not_touch_the_rate_of_an_existing_loan(loan, line):
    credit_line_change_rate(credit_line_id=line.pk, new_daily_rate=Decimal("0.0003"), reason="re-scored")

    loan.refresh_from_db()
    assert loan.daily_rate == Decimal("0.0004")


def test_setting_the_same_limit_again_records_nothing(line):
    credit_line_change_limit(credit_line_id=line.pk, new_limit=Decimal("50000"), reason="no change")

    assert changes(line) == [("state", "pending", "active", "approved")]


def test_freezing_and_unfreezing_are_recorded_with_their_reasons(line):
    credit_line_freeze(credit_line_id=line.pk, reason="1 DPD")
    frozen = CreditLine.objects.get(pk=line.pk).state
    credit_line_unfreeze(credit_line_id=line.pk, reason="cured")

    assert frozen == CreditLine.State.FROZEN
    assert CreditLine.objects.get(pk=line.pk).state == CreditLine.State.ACTIVE
    assert changes(line)[1:] == [
        ("state", "active", "frozen", "1 DPD"),
        ("state", "frozen", "active", "cured"),
    ]


def test_an_active_line_cannot_be_unfrozen(line):
    with pytest.raises(DomainError) as refused:
        credit_line_unfreeze(credit_line_id=line.pk, reason="oops")

    assert (refused.value.code, refused.value.field) == ("transition_not_allowed", "state")
    assert len(changes(line)) == 1


def test_a_closed_line_refuses_a_limit_change(line):
    credit_line_close(credit_line_id=line.pk, reason="customer request")

    with pytest.raises(DomainError) as refused:
        credit_line_change_limit(credit_line_id=line.pk, new_limit=Decimal("60000"), reason="too late")

    assert refused.value.code == "line_closed"


CHANGES = {
    "limit": lambda line, reason: credit_line_change_limit(
        credit_line_id=line.pk, new_limit=Decimal("60000"), reason=reason
    ),
    "rate": lambda line, reason: credit_line_change_rate(
        credit_line_id=line.pk, new_daily_rate=Decimal("0.0003"), reason=reason
    ),
    "freeze": lambda line, reason: credit_line_freeze(credit_line_id=line.pk, reason=reason),
    "close": lambda line, reason: credit_line_close(credit_line_id=line.pk, reason=reason),
}


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("reason", ["", "   ", "x" * 101], ids=["empty", "blank", "longer-than-history-keeps"])
def test_a_change_without_a_usable_reason_is_refused_and_nothing_changes(line, change, reason):
    before = (list(CreditLine.objects.filter(pk=line.pk).values()), changes(line), line.history.count())

    with pytest.raises(DomainError) as refused:
        CHANGES[change](line, reason)

    assert refused.value.field == "reason"
    assert (
        list(CreditLine.objects.filter(pk=line.pk).values()),
        changes(line),
        line.history.count(),
    ) == before


def test_a_reason_as_long_as_the_history_keeps_is_accepted(line):
    credit_line_freeze(credit_line_id=line.pk, reason="x" * 100)

    assert line.history.latest("history_id").history_change_reason == "x" * 100


def test_a_line_is_not_opened_without_a_reason(borrower, product, start_date):
    with pytest.raises(DomainError) as refused:
        credit_line_open(
            borrower=borrower, product=product, limit=Decimal("5000"), daily_rate=Decimal("0.0004"), reason=""
        )

    assert refused.value.field == "reason"
    assert not CreditLine.objects.exists()


def test_the_line_history_keeps_every_change_with_its_reason(line):
    credit_line_change_limit(credit_line_id=line.pk, new_limit=Decimal("60000"), reason="good behaviour")
    credit_line_freeze(credit_line_id=line.pk, reason="1 DPD")

    history = list(line.history.order_by("history_id").values_list("limit", "state", "history_change_reason"))
    assert history == [
        (Decimal("50000"), "active", "approved"),
        (Decimal("60000"), "active", "good behaviour"),
        (Decimal("60000"), "frozen", "1 DPD"),
    ]
