"""The gateway registry and the simulated gateway: deterministic per (seed, reference), rates as configured."""

from collections import Counter
from decimal import Decimal

import pytest

from core.errors import DomainError
from payments.gateways import gateway_get
from payments.gateways.base import SIGNATURE_HEADER, CallbackRefused, Instruction
from payments.gateways.simulated import SimulatedGateway


def _instruction(reference: str, attempt: int = 1) -> Instruction:
    return Instruction(reference, "disbursement", Decimal("100.00"), None, attempt)


def _rates(settings, **rates):
    settings.PAYMENTS_SIMULATED = {**settings.PAYMENTS_SIMULATED, "failure_rate": 0, "delay_rate": 0, **rates}


def test_the_registry_knows_its_gateways_and_refuses_others():
    assert isinstance(gateway_get("simulated"), SimulatedGateway)
    with pytest.raises(DomainError) as refused:
        gateway_get("acme-bank")
    assert refused.value.field == "gateway"


def test_the_same_seed_gives_the_same_story_and_another_seed_another(settings, db):
    _rates(settings, failure_rate=0.3, delay_rate=0.2, seed="one")
    gateway = gateway_get("simulated")
    references = [f"D{n:06d}" for n in range(400)]
    first = [gateway.instruct_disbursement(_instruction(ref)).status for ref in references]
    assert first == [gateway.instruct_disbursement(_instruction(ref)).status for ref in references]
    counts = Counter(first)
    assert 90 <= counts["failed"] <= 150 and 50 <= counts["accepted"] <= 110
    _rates(settings, failure_rate=0.3, delay_rate=0.2, seed="two")
    assert first != [gateway.instruct_disbursement(_instruction(ref)).status for ref in references]


def test_a_delayed_instruction_is_confirmed_when_asked_again(settings, db):
    _rates(settings, delay_rate=1.0)
    gateway = gateway_get("simulated")
    assert gateway.instruct_debit(_instruction("A1")).status == "accepted"
    assert gateway.instruct_debit(_instruction("A1", attempt=2)).status == "confirmed"


def test_a_signed_callback_parses_and_a_tampered_one_is_refused():
    gateway = gateway_get("simulated")
    body, signature = gateway.callback_sign({"reference": "D1", "status": "confirmed", "amount": "10.00"})
    report = gateway.parse_callback(body=body, headers={SIGNATURE_HEADER: signature})
    assert (report.reference, report.amount) == ("D1", Decimal("10.00"))
    with pytest.raises(CallbackRefused) as refused:
        gateway.parse_callback(body=body.replace(b"10.00", b"99.00"), headers={SIGNATURE_HEADER: signature})
    assert refused.value.code == "bad_signature"
