"""Reads shared by the services, the close, the admin and the exports: policy look-up, stop-loss, figures."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum

from core.money import ZERO, round_fen
from insurance.models import Coverage, CoverageMovement, Funder, FundingShare, InsuranceClaim, LossAllocation, Policy
from lending.models import Loan

RATIO_QUANTUM = Decimal("0.0001")
# Claims whose amount counts against the stop-loss: approved ones (not yet paid) and paid ones.
STOP_LOSS_STATES = [InsuranceClaim.State.APPROVED, InsuranceClaim.State.PAID]


def ratio(part: Decimal, whole: Decimal) -> Decimal:
    if not whole:
        return Decimal("0.0000")
    return (part / whole).quantize(RATIO_QUANTUM, rounding=ROUND_HALF_UP)


def policy_covering(*, product_id: int, partner_id: int, on_date: date) -> Policy | None:
    """The active policy covering a product and partner on a date (the latest effective one if several)."""
    return (
        Policy.objects.filter(
            state=Policy.State.ACTIVE,
            products=product_id,
            effective_from__lte=on_date,
            effective_to__gte=on_date,
        )
        .filter(Q(partners=partner_id) | Q(partners__isnull=True))
        .order_by("-effective_from", "pk")
        .first()
    )


def policy_year(policy: Policy, on_date: date) -> int:
    """1 for the first twelve months from the policy's effective date, 2 for the next twelve, and so on."""
    months = (on_date.year - policy.effective_from.year) * 12 + on_date.month - policy.effective_from.month
    if on_date.day < policy.effective_from.day:
        months -= 1
    return months // 12 + 1


@dataclass(frozen=True)
class StopLoss:
    policy_id: int
    policy_year: int
    insured_principal: Decimal
    cap: Decimal
    used: Decimal

    @property
    def headroom(self) -> Decimal:
        return max(self.cap - self.used, ZERO)

    @property
    def utilisation(self) -> Decimal:
        return ratio(self.used, self.cap)


def stop_loss(*, policy: Policy, year: int) -> StopLoss:
    """The cohort's cap (stop-loss rate × insured principal) and what approved and paid claims used of it."""
    cohort = Coverage.objects.filter(policy=policy, policy_year=year)
    insured = cohort.aggregate(total=Sum("insured_principal"))["total"] or ZERO
    used = (
        InsuranceClaim.objects.filter(coverage__in=cohort, state__in=STOP_LOSS_STATES).aggregate(
            total=Sum("approved_amount")
        )["total"]
        or ZERO
    )
    return StopLoss(
        policy_id=policy.pk,
        policy_year=year,
        insured_principal=round_fen(insured),
        cap=round_fen(insured * policy.stop_loss_rate),
        used=round_fen(used),
    )


def _movement_totals(kind: str, **filters) -> dict[int, Decimal]:
    rows = (
        CoverageMovement.objects.filter(kind=kind, **filters)
        .values("coverage__policy_id")
        .annotate(total=Sum("amount"))
    )
    return {row["coverage__policy_id"]: round_fen(row["total"]) for row in rows}


POLICY_FIGURE_COLUMNS = [
    "insurer", "policy", "state", "loans", "insured_principal", "premiums_earned", "claims_filed",
    "claims_filed_amount", "claims_paid", "claims_paid_amount", "claims_rejected", "loss_ratio",
    "stop_loss_year", "stop_loss_cap", "stop_loss_used", "stop_loss_utilisation", "recoveries",
]  # fmt: skip


def policy_figures(*, on_date: date) -> list[dict]:
    """Per insurer and policy: insured principal, premiums, claims, loss ratio, stop-loss in the current year."""
    insured = {
        row["policy_id"]: row
        for row in Coverage.objects.values("policy_id").annotate(loans=Count("id"), total=Sum("insured_principal"))
    }
    claims: dict[int, dict] = defaultdict(dict)
    for row in InsuranceClaim.objects.values("coverage__policy_id", "state").annotate(
        count=Count("id"), claimed=Sum("claimed_amount"), approved=Sum("approved_amount")
    ):
        claims[row["coverage__policy_id"]][row["state"]] = row
    premiums = _movement_totals(CoverageMovement.Kind.PREMIUM)
    recoveries = _movement_totals(CoverageMovement.Kind.RECOVERY)
    figures = []
    for policy in Policy.objects.select_related("insurer").order_by("insurer__name", "number"):
        by_state = claims[policy.pk]
        paid = by_state.get(InsuranceClaim.State.PAID, {})
        paid_amount = round_fen(paid.get("approved") or ZERO)
        premiums_earned = premiums.get(policy.pk, ZERO)
        year = max(policy_year(policy, min(on_date, policy.effective_to)), 1)
        cohort = stop_loss(policy=policy, year=year)
        figures.append(
            {
                "insurer": policy.insurer.name,
                "policy": policy.number,
                "state": policy.state,
                "loans": insured.get(policy.pk, {}).get("loans", 0),
                "insured_principal": round_fen(insured.get(policy.pk, {}).get("total") or ZERO),
                "premiums_earned": premiums_earned,
                "claims_filed": sum(row["count"] for row in by_state.values()),
                "claims_filed_amount": round_fen(sum((row["claimed"] for row in by_state.values()), ZERO)),
                "claims_paid": paid.get("count", 0),
                "claims_paid_amount": paid_amount,
                "claims_rejected": by_state.get(InsuranceClaim.State.REJECTED, {}).get("count", 0),
                "loss_ratio": ratio(paid_amount, premiums_earned),
                "stop_loss_year": year,
                "stop_loss_cap": cohort.cap,
                "stop_loss_used": cohort.used,
                "stop_loss_utilisation": cohort.utilisation,
                "recoveries": recoveries.get(policy.pk, ZERO),
            }
        )
    return figures


FUNDER_FIGURE_COLUMNS = ["funder", "kind", "default_share", "loans", "exposure", "losses"]


def funder_figures() -> list[dict]:
    """Per funder: its share of open loans' outstanding principal, and the losses allocated to it."""
    exposure: dict[int, Decimal] = defaultdict(lambda: ZERO)
    loans: dict[int, int] = defaultdict(int)
    open_shares = FundingShare.objects.filter(loan__state__in=[Loan.State.CURRENT, Loan.State.OVERDUE]).values_list(
        "funder_id", "share", "loan__principal_outstanding"
    )
    for funder_id, share, outstanding in open_shares:
        exposure[funder_id] += share * outstanding
        loans[funder_id] += 1
    losses = dict(
        LossAllocation.objects.values("funder_id").annotate(total=Sum("amount")).values_list("funder_id", "total")
    )
    return [
        {
            "funder": funder.name,
            "kind": funder.kind,
            "default_share": funder.default_share,
            "loans": loans[funder.pk],
            "exposure": round_fen(exposure[funder.pk]),
            "losses": round_fen(losses.get(funder.pk) or ZERO),
        }
        for funder in Funder.objects.order_by("kind", "name")
    ]
