"""Claims: filed by the close of day at the trigger DPD, reviewed by claims officers, paid out.

filed → under_review → approved → paid, or rejected from filed or under
review. Approval applies the stop-loss (the cohort's cap less what approved
and paid claims used) and books the claim receivable against the
compensated-loans contra; payout books the insurer's cash and makes the
loan compensated (代偿): from then on what the loan earns and recovers is
the insurer's (insurance.close).
"""

from datetime import date, timedelta

from django.db import transaction
from django_fsm import can_proceed
from simple_history.utils import bulk_create_with_history

from core.business_date import REASON_MAX_LENGTH, business_date_for_write
from core.errors import DomainError
from core.money import round_fen
from core.validation import text_required
from insurance import postings
from insurance.models import Coverage, InsuranceClaim, Policy
from insurance.selectors import stop_loss
from ledger.services import entry_post
from lending.locking import loan_lock
from lending.models import Loan


def claim_amounts(*, policy: Policy, principal, interest, penalty) -> dict:
    """What a claim asks for: each outstanding component × the policy's coverage ratio, to the fen."""
    parts = {
        "principal_claimed": round_fen(principal * policy.principal_coverage),
        "interest_claimed": round_fen(interest * policy.interest_coverage),
        "penalty_claimed": round_fen(penalty * policy.penalty_coverage),
    }
    return {**parts, "claimed_amount": sum(parts.values())}


def claims_due(*, business_date: date) -> list[Coverage]:
    """Covered overdue loans at or past their policy's trigger DPD, past its waiting period, with no claim yet."""
    due = []
    candidates = (
        Coverage.objects.select_related("policy", "loan")
        .filter(state=Coverage.State.ACTIVE, claim__isnull=True, loan__state=Loan.State.OVERDUE)
        .order_by("loan_id")
    )
    for policy in Policy.objects.filter(coverages__in=candidates).distinct():
        threshold = business_date - timedelta(days=policy.claim_trigger_dpd)
        for coverage in candidates.filter(policy=policy, loan__overdue_since__lte=threshold):
            if coverage.loan.overdue_since >= coverage.enrolled_on + timedelta(days=policy.waiting_days):
                due.append(coverage)
    return due


def claims_file(*, business_date: date) -> list[InsuranceClaim]:
    """File a claim for every coverage reaching its trigger DPD (the caller holds the transaction)."""
    claims = [
        InsuranceClaim(
            coverage=coverage,
            filed_on=business_date,
            dpd_at_filing=(business_date - coverage.loan.overdue_since).days,
            **claim_amounts(
                policy=coverage.policy,
                principal=coverage.loan.principal_outstanding,
                interest=coverage.loan.interest_outstanding,
                penalty=coverage.loan.penalty_outstanding,
            ),
        )
        for coverage in claims_due(business_date=business_date)
    ]
    return bulk_create_with_history(
        claims, InsuranceClaim, default_change_reason=f"filed by the close of {business_date}"
    )


def _claim_lock(claim_id: int) -> tuple[Loan, InsuranceClaim]:
    """Lock the loan (after its credit line, lending's order), then the claim."""
    loan_id = InsuranceClaim.objects.values_list("coverage__loan_id", flat=True).filter(pk=claim_id).first()
    if loan_id is None:
        raise DomainError("claim_not_found", f"no claim {claim_id}", field="claim")
    _, loan = loan_lock(loan_id)
    claim = InsuranceClaim.objects.select_for_update().select_related("coverage__policy").get(pk=claim_id)
    return loan, claim


def _move(claim: InsuranceClaim, action: str, *, reason: str, actor) -> None:
    move = getattr(claim, action)
    if not can_proceed(move):
        raise DomainError("claim_state", f"a {claim.state} claim cannot {action.replace('_', ' ')}", field="state")
    move()
    claim.actor = actor
    claim._change_reason = reason
    claim._history_user = actor
    claim.save()


@transaction.atomic
def claim_request_documents(*, claim_id: int, documents: str, actor=None) -> InsuranceClaim:
    documents = text_required(documents, field="documents", max_length=REASON_MAX_LENGTH)
    _, claim = _claim_lock(claim_id)
    claim.documents_requested = documents
    _move(claim, "request_documents", reason=f"documents requested: {documents}", actor=actor)
    return claim


@transaction.atomic
def claim_reject(*, claim_id: int, reason: str, actor=None) -> InsuranceClaim:
    reason = text_required(reason, field="reason", max_length=REASON_MAX_LENGTH)
    _, claim = _claim_lock(claim_id)
    claim.rejection_reason = reason
    _move(claim, "reject", reason=reason, actor=actor)
    return claim


@transaction.atomic
def claim_approve(*, claim_id: int, reason: str = "approved", actor=None) -> InsuranceClaim:
    """Approve within the stop-loss: the claimed amount or what is left of the cohort's cap, whichever is less.

    The policy row is locked so two approvals cannot both spend the same headroom.
    """
    reason = text_required(reason, field="reason", max_length=REASON_MAX_LENGTH)
    today = business_date_for_write()
    loan, claim = _claim_lock(claim_id)
    coverage = claim.coverage
    if not can_proceed(claim.approve):
        raise DomainError("claim_state", f"a {claim.state} claim cannot approve", field="state")
    policy = Policy.objects.select_for_update().get(pk=coverage.policy_id)
    headroom = stop_loss(policy=policy, year=coverage.policy_year).headroom
    if headroom <= 0:
        raise DomainError(
            "stop_loss_reached",
            f"policy {policy.number} year {coverage.policy_year} has reached its stop-loss; reject the claim",
            field="claim",
        )
    claim.approved_amount = min(claim.claimed_amount, headroom)
    claim.approved_on = today
    entry_post(
        draft=postings.claim_approval_draft(
            loan_id=loan.pk, reference=f"claim:{claim.pk}", amount=claim.approved_amount
        ),
        business_date=today,
    )
    _move(claim, "approve", reason=reason, actor=actor)
    return claim


@transaction.atomic
def claim_pay(*, claim_id: int, reference: str = "", actor=None) -> InsuranceClaim:
    """Record the insurer's payment: cash against the claim receivable; the loan becomes compensated."""
    today = business_date_for_write()
    loan, claim = _claim_lock(claim_id)
    if not can_proceed(claim.pay):
        raise DomainError("claim_state", f"a {claim.state} claim cannot be paid", field="state")
    entry_post(
        draft=postings.claim_payout_draft(
            loan_id=loan.pk, reference=reference or f"claim:{claim.pk}", amount=claim.approved_amount
        ),
        business_date=today,
    )
    claim.paid_on = today
    _move(claim, "pay", reason=f"paid {reference}".strip(), actor=actor)
    coverage = claim.coverage
    coverage.state, coverage.compensated_on = Coverage.State.COMPENSATED, today
    coverage._change_reason = f"compensated by claim {claim.pk}"
    coverage._history_user = actor
    coverage.save()
    return claim
