"""The simulated gateway for the demo and tests: outcomes drawn from settings, deterministic per reference.

Each instruction's fate is a keyed hash of (seed, reference), so the same
seed replays the same story and a retry of a reference always gets the same
answer. With `failure_rate` a share fails at once; with `delay_rate` a share
is only accepted on the first attempt and confirmed when chased (a retry
with the same reference, as a real gateway answers a status query).
Callbacks are JSON signed with HMAC-SHA256 under `secret`.
"""

import hashlib
import json

from django.conf import settings

from core.business_date import business_date_current
from payments.gateways.base import (
    ACCEPTED,
    CONFIRMED,
    FAILED,
    Gateway,
    Instruction,
    Outcome,
    Report,
    report_from_json,
    signature,
    signature_check,
)


def _config() -> dict:
    return settings.PAYMENTS_SIMULATED


def _draw(reference: str) -> float:
    digest = hashlib.sha256(f"{_config()['seed']}:{reference}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class SimulatedGateway(Gateway):
    in_process = True

    def _answer(self, instruction: Instruction) -> Outcome:
        config = _config()
        draw = _draw(instruction.reference)
        gateway_reference = f"SIM-{instruction.reference}"
        if draw < config["failure_rate"]:
            return Outcome(FAILED, gateway_reference, reason="declined by the simulated gateway")
        if draw < config["failure_rate"] + config["delay_rate"] and instruction.attempt <= 1:
            return Outcome(ACCEPTED, gateway_reference)
        return Outcome(CONFIRMED, gateway_reference, value_date=business_date_current())

    def instruct_disbursement(self, instruction: Instruction) -> Outcome:
        return self._answer(instruction)

    def instruct_debit(self, instruction: Instruction) -> Outcome:
        return self._answer(instruction)

    def parse_callback(self, *, body: bytes, headers) -> Report:
        signature_check(_config()["secret"], body, headers)
        return report_from_json(body)

    def callback_sign(self, report: dict) -> tuple[bytes, str]:
        """A callback body and its signature, as the simulated gateway would send them (demo and tests)."""
        body = json.dumps(report).encode()
        return body, signature(_config()["secret"], body)
