"""The partner-channel gateway: the partner moves the money itself and reports back over the partner API.

Instructions are only accepted here; the result arrives through the partner's
authenticated report endpoints (`/api/v1/payments/.../report`). There is no
shared-secret callback: the partner's Bearer key is the signature.
"""

from payments.gateways.base import ACCEPTED, CallbackRefused, Gateway, Instruction, Outcome, Report


class PartnerChannelGateway(Gateway):
    in_process = True  # accepting is a no-op: the partner pulls nothing from us, it reports

    def instruct_disbursement(self, instruction: Instruction) -> Outcome:
        return Outcome(ACCEPTED)

    def instruct_debit(self, instruction: Instruction) -> Outcome:
        return Outcome(ACCEPTED)

    def parse_callback(self, *, body: bytes, headers) -> Report:
        raise CallbackRefused("wrong_route", "the partner channel reports through the partner API's report endpoints")
