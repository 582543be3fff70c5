"""The assignment strategy (pure): round-robin within capacity.

Cases are handed out in priority order, each to the collector of its queue
with room left who carries the fewest cases (ties: the one who received a
case least recently, then the lowest id). With equal loads that cycles
through the collectors in turn; nobody is given more than their capacity.
Stickiness is the caller's part: only cases without a collector are passed in.
"""

from dataclasses import dataclass


@dataclass
class CollectorSlot:
    user_id: int
    queue: str  # "" works any queue
    capacity: int
    load: int
    last_assigned: int = 0  # a sequence number; lower = longer ago


@dataclass(frozen=True)
class CaseToAssign:
    case_id: int
    queue: str


def assign_round_robin(cases: list[CaseToAssign], collectors: list[CollectorSlot]) -> dict[int, int]:
    """Map case id → collector user id; cases no collector has room for are left out."""
    result: dict[int, int] = {}
    sequence = max((slot.last_assigned for slot in collectors), default=0)
    for case in cases:
        candidates = [slot for slot in collectors if slot.queue in ("", case.queue) and slot.load < slot.capacity]
        if not candidates:
            continue
        chosen = min(candidates, key=lambda slot: (slot.load, slot.last_assigned, slot.user_id))
        sequence += 1
        chosen.load += 1
        chosen.last_assigned = sequence
        result[case.case_id] = chosen.user_id
    return result
