"""Policy life cycle: draft → active ⇄ suspended → expired, each move with its reason in the history."""

from django.db import transaction
from django_fsm import can_proceed

from core.business_date import REASON_MAX_LENGTH
from core.errors import DomainError
from core.validation import text_required
from insurance.models import Policy


def _check_activatable(policy: Policy) -> None:
    if not policy.products.exists():
        raise DomainError(
            "policy_covers_no_product", "an active policy must cover at least one product", field="products"
        )
    if policy.monthly_premium_rate <= 0:
        raise DomainError("premium_not_positive", "the premium rate must be above zero", field="monthly_premium_rate")
    if not policy.insurer.is_active:
        raise DomainError("insurer_inactive", f"the insurer {policy.insurer} is inactive", field="insurer")


_MOVES = {
    "activate": ("activate", _check_activatable),
    "suspend": ("suspend", None),
    "resume": ("resume", _check_activatable),
    "expire": ("expire", None),
}


@transaction.atomic
def policy_transition(*, policy_id: int, action: str, reason: str, actor=None) -> Policy:
    """Move a policy (`activate`, `suspend`, `resume`, `expire`); refused from a state the move does not start in.

    Only an active policy enrols new loans; loans already covered stay covered
    (and their claims are filed) whatever happens to the policy later.
    """
    reason = text_required(reason, field="reason", max_length=REASON_MAX_LENGTH)
    if action not in _MOVES:
        raise DomainError("unknown_action", f"must be one of {', '.join(_MOVES)}", field="action")
    policy = Policy.objects.select_for_update().select_related("insurer").get(pk=policy_id)
    method, check = _MOVES[action]
    move = getattr(policy, method)
    if not can_proceed(move):
        raise DomainError("policy_state", f"a {policy.state} policy cannot {action}", field="state")
    if check:
        check(policy)
    move()
    policy._change_reason = reason
    policy._history_user = actor
    policy.save()
    return policy
