"""Concurrent contact logging on PostgreSQL: the case row lock keeps the daily call limit across collectors.

Real threads, each with its own connection (closed at the end), committing
for real; SQLite serialises writers and would prove nothing here.
"""

import threading
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from core.errors import DomainError
from debt_collection.models import ContactAttempt
from debt_collection.services import contact_attempt_log

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

COLLECTORS = 8


def test_concurrent_connected_calls_stop_at_three(loan, make_collector, close_to, case_of):
    close_to(date(2031, 2, 17))
    case = case_of(loan)
    collectors = [make_collector(f"c{index}") for index in range(COLLECTORS)]
    start = threading.Barrier(COLLECTORS)
    outcomes: list = [None] * COLLECTORS

    def call(index: int) -> None:
        try:
            start.wait(timeout=30)
            outcomes[index] = contact_attempt_log(
                case_id=case.pk, collector=collectors[index], channel="call", outcome="connected",
                attempted_at=datetime(2025, 6, 17, 10, index, tzinfo=ZoneInfo("Asia/Shanghai")),
            )  # fmt: skip
        except Exception as error:  # reported to the test, which fails on anything but the rule
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(index,)) for index in range(COLLECTORS)]
    for each in threads:
        each.start()
    for each in threads:
        each.join(timeout=120)

    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert all(o.code == "daily_call_limit" for o in refused)
    assert len(refused) == COLLECTORS - 3
    assert ContactAttempt.objects.count() == 3
