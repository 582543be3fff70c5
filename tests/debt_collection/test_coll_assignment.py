"""Assignment: round-robin within capacity, fair and sticky; managers reassign in bulk, every move recorded."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import DomainError
from debt_collection.assignment import CaseToAssign, CollectorSlot, assign_round_robin
from debt_collection.models import CaseAssignment, CollectionCase
from debt_collection.services import cases_reassign


@given(
    collectors=st.integers(min_value=1, max_value=6),
    cases=st.integers(min_value=0, max_value=60),
    capacity=st.integers(min_value=1, max_value=20),
)
def test_round_robin_is_fair_and_never_exceeds_capacity(collectors, cases, capacity):
    slots = [CollectorSlot(user_id=i, queue="", capacity=capacity, load=0) for i in range(1, collectors + 1)]
    result = assign_round_robin([CaseToAssign(case_id=c, queue="early") for c in range(cases)], slots)
    loads = [sum(1 for user in result.values() if user == slot.user_id) for slot in slots]
    assert max(loads) <= capacity
    assert len(result) == min(cases, collectors * capacity)
    assert max(loads) - min(loads) <= 1


@given(loads=st.lists(st.integers(min_value=0, max_value=10), min_size=2, max_size=5))
def test_round_robin_fills_the_least_loaded_first(loads):
    slots = [CollectorSlot(user_id=i, queue="", capacity=100, load=load) for i, load in enumerate(loads)]
    gap = sum(max(loads) - load for load in loads)
    assign_round_robin([CaseToAssign(case_id=c, queue="early") for c in range(gap)], slots)
    assert {slot.load for slot in slots} == {max(loads)}


def test_round_robin_respects_queues_and_takes_turns_on_ties():
    slots = [
        CollectorSlot(user_id=1, queue="early", capacity=5, load=0, last_assigned=7),
        CollectorSlot(user_id=2, queue="early", capacity=5, load=0, last_assigned=3),
        CollectorSlot(user_id=3, queue="recovery", capacity=5, load=0),
    ]
    cases = [
        CaseToAssign(10, "early"),
        CaseToAssign(11, "early"),
        CaseToAssign(12, "early"),
        CaseToAssign(13, "intensive"),
    ]
    # Collector 2 received a case longest ago, so goes first; nobody works the intensive queue.
    assert assign_round_robin(cases, slots) == {10: 2, 11: 1, 12: 2}


def test_cases_are_spread_over_collectors_and_stay_with_them(make_loan, make_collector, close_to):
    first, second = make_collector("first"), make_collector("second")
    loans = [make_loan() for _ in range(4)]
    close_to(date(2031, 2, 17))
    owners = {case.pk: case.collector_id for case in CollectionCase.objects.all()}
    assert sorted(owners.values()) == sorted([first.pk, first.pk, second.pk, second.pk])

    make_collector("third")  # a new collector takes no case away from the others
    close_to(date(2031, 3, 1))
    assert {case.pk: case.collector_id for case in CollectionCase.objects.all()} == owners
    assert CaseAssignment.objects.count() == len(loans)


def test_a_full_collector_gets_no_more_cases(make_loan, make_collector, close_to):
    make_collector("small", capacity=1)
    for _ in range(2):
        make_loan()
    close_to(date(2031, 2, 17))
    states = sorted(CollectionCase.objects.values_list("state", flat=True))
    assert states == ["assigned", "open"]


def test_a_manager_reassigns_cases_in_bulk_with_history(make_loan, make_collector, manager, close_to):
    first = make_collector("first")
    for _ in range(3):
        make_loan()
    close_to(date(2031, 2, 17))
    second = make_collector("second")
    ids = list(CollectionCase.objects.values_list("pk", flat=True))

    records = cases_reassign(case_ids=ids, collector=second, reason="first is on leave", actor=manager)

    assert len(records) == 3
    assert set(CollectionCase.objects.values_list("collector_id", flat=True)) == {second.pk}
    record = CaseAssignment.objects.filter(actor=manager).first()
    assert (record.previous_collector, record.collector, record.reason) == (first, second, "first is on leave")
    case = CollectionCase.objects.get(pk=ids[0])
    assert case.history.first().history_change_reason == "reassigned: first is on leave"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"reason": ""}, "required"),
        ({"case_ids": []}, "required"),
        ({"case_ids": [999999]}, "not_found"),
        ({"collector": "manager"}, "not_a_collector"),
    ],
)
def test_bad_reassignment_is_refused_and_nothing_moves(loan, collector, manager, close_to, case_of, changes, code):
    close_to(date(2031, 2, 17))
    case = case_of(loan)
    kwargs = {"case_ids": [case.pk], "collector": collector, "reason": "rebalance", "actor": manager, **changes}
    if kwargs["collector"] == "manager":
        kwargs["collector"] = manager
    with pytest.raises(DomainError) as refused:
        cases_reassign(**kwargs)
    assert refused.value.code == code
    assert CaseAssignment.objects.count() == 1
    case.refresh_from_db()
    assert case.collector == collector
