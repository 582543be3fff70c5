"""Concurrent claim approvals on PostgreSQL: the policy row lock keeps a cohort within its stop-loss.

Real threads, each with its own connection (closed at the end), committing
for real; SQLite serialises writers and would prove nothing here.
"""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from core.errors import DomainError
from insurance.models import InsuranceClaim
from insurance.selectors import stop_loss
from insurance.services.claims import claim_approve

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TRIGGER_DAY = date(2031, 2, 15) + timedelta(days=90)


def test_concurrent_approvals_never_spend_more_than_the_stop_loss(make_policy, make_loan, advance_to, close_through):
    # 4 loans of 12,000 with a 30 % stop-loss: 14,400 of cap, room for one full claim and part of a second.
    policy = make_policy(stop_loss_rate=Decimal("0.3"), interest_coverage=Decimal("0"))
    for _ in range(4):
        make_loan()
    advance_to(TRIGGER_DAY)
    close_through(TRIGGER_DAY)
    claims = list(InsuranceClaim.objects.values_list("pk", flat=True))
    start = threading.Barrier(len(claims))
    outcomes: dict[int, object] = {}

    def approve(claim_id: int) -> None:
        try:
            start.wait(timeout=30)
            outcomes[claim_id] = claim_approve(claim_id=claim_id).approved_amount
        except DomainError as error:
            outcomes[claim_id] = error.code
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(claim_id,)) for claim_id in claims]
    for each in threads:
        each.start()
    for each in threads:
        each.join(timeout=120)

    assert not any(each.is_alive() for each in threads), "a thread is still running (deadlock?)"
    approved = [amount for amount in outcomes.values() if isinstance(amount, Decimal)]
    assert sorted(approved) == [Decimal("2400.00"), Decimal("12000.00")]
    assert sorted(code for code in outcomes.values() if isinstance(code, str)) == ["stop_loss_reached"] * 2
    assert stop_loss(policy=policy, year=1).used == Decimal("14400.00")
