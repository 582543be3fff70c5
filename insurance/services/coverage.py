"""Coverage at disbursement: the premium priced into a drawdown, enrolment, and each loan's funding shares.

Lending calls these through its extension points (lending/extensions.py),
registered in InsuranceConfig.ready: lending never imports insurance.
"""

from datetime import date
from decimal import Decimal

from django.db import transaction

from core.errors import DomainError
from core.money import ZERO, as_decimal, round_rate
from insurance.models import Coverage, Funder, FundingShare, LossAllocation
from insurance.selectors import policy_covering, policy_year
from lending.models import Borrower, CreditLine, Loan

# DOMAIN.md: in joint lending the platform (the partner) must fund at least 30 % of each loan.
PLATFORM_MIN_SHARE = Decimal("0.30")


def _partner_id(credit_line: CreditLine) -> int:
    # A line priced for a quote is never saved: its borrower is an unsaved one that carries the partner.
    if credit_line.borrower_id is None:
        return credit_line.borrower.partner_id
    return Borrower.objects.values_list("partner_id", flat=True).get(pk=credit_line.borrower_id)


def premium_rate(*, credit_line: CreditLine, on_date: date) -> Decimal:
    """The monthly premium of the active policy covering the line's product and partner (zero when none does)."""
    policy = policy_covering(product_id=credit_line.product_id, partner_id=_partner_id(credit_line), on_date=on_date)
    return policy.monthly_premium_rate if policy else ZERO


def coverage_enrol(*, loan: Loan, today: date) -> Coverage | None:
    """Enrol a loan priced with a premium under the active policy; refused when none covers it any more."""
    if not loan.monthly_premium_rate:
        return None
    line = loan.credit_line
    policy = policy_covering(product_id=line.product_id, partner_id=_partner_id(line), on_date=today)
    if policy is None:
        raise DomainError(
            "no_active_policy",
            "the loan was priced with an insurance premium but no active policy covers it today",
            field="loan",
        )
    coverage = Coverage(
        loan=loan,
        policy=policy,
        enrolled_on=today,
        policy_year=policy_year(policy, today),
        insured_principal=loan.principal,
        monthly_premium_rate=loan.monthly_premium_rate,
    )
    coverage._change_reason = "enrolled at disbursement"
    coverage.save()
    return coverage


def _checked_shares(shares: dict[Funder, Decimal]) -> dict[Funder, Decimal]:
    if not shares:
        raise DomainError("no_funders", "a loan needs at least one funder", field="shares")
    checked = {}
    for funder, share in shares.items():
        try:
            value = as_decimal(share)
        except (TypeError, ValueError) as error:
            raise DomainError("invalid_share", f"{funder.code}: {error}", field="shares") from None
        if not Decimal(0) < value <= 1 or round_rate(value) != value:
            raise DomainError("invalid_share", f"{funder.code}: must be above 0, at most 1, 8 places", field="shares")
        checked[funder] = value
    total = sum(checked.values(), Decimal(0))
    if total != 1:
        raise DomainError("shares_not_whole", f"shares must sum to 1, not {total}", field="shares")
    platform = sum((v for f, v in checked.items() if f.kind == Funder.Kind.PLATFORM), Decimal(0))
    if platform < PLATFORM_MIN_SHARE:
        raise DomainError(
            "platform_share_too_low", f"the platform must fund at least {PLATFORM_MIN_SHARE:.0%}", field="shares"
        )
    return checked


def funding_shares_assign(*, loan: Loan, today: date) -> list[FundingShare]:
    """Fund a disbursed loan by the active funders' default shares (no funders set up: nothing to record)."""
    funders = list(Funder.objects.filter(is_active=True).order_by("pk"))
    if not funders:
        return []
    shares = _checked_shares({funder: funder.default_share for funder in funders if funder.default_share > 0})
    return FundingShare.objects.bulk_create(
        [FundingShare(loan=loan, funder=funder, share=share) for funder, share in shares.items()]
    )


@transaction.atomic
def loan_funding_set(*, loan_id: int, shares: dict[str, Decimal]) -> list[FundingShare]:
    """Replace a loan's funding shares, given as {funder code: share}; refused once its loss is allocated."""
    loan = Loan.objects.select_for_update().get(pk=loan_id)
    if loan.state in (Loan.State.PENDING, Loan.State.CANCELLED):
        raise DomainError("loan_not_disbursed", f"the loan is {loan.state}", field="loan")
    if LossAllocation.objects.filter(loan=loan).exists():
        raise DomainError("loss_allocated", "the loan's loss is already allocated to its funders", field="loan")
    if not isinstance(shares, dict):
        raise DomainError("invalid_shares", "give shares as {funder code: share}", field="shares")
    funders = {funder.code: funder for funder in Funder.objects.filter(code__in=list(shares), is_active=True)}
    unknown = sorted(set(shares) - funders.keys())
    if unknown:
        raise DomainError("unknown_funder", f"no active funder {', '.join(map(str, unknown))}", field="shares")
    checked = _checked_shares({funders[code]: share for code, share in shares.items()})
    FundingShare.objects.filter(loan=loan).delete()
    return FundingShare.objects.bulk_create(
        [FundingShare(loan=loan, funder=funder, share=share) for funder, share in checked.items()]
    )
