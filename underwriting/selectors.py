"""Reads shared by the services, commands and admin: the rule settings as a policy, the book facts the rules need."""

from decimal import Decimal

from lending.models import Borrower, Loan
from underwriting.models import DEFAULT_BANDS, BlockListEntry, RuleSettings
from underwriting.rules import Band, Policy


def rule_settings_get() -> RuleSettings:
    settings, _ = RuleSettings.objects.get_or_create(pk=RuleSettings.SINGLETON_ID, defaults={"bands": DEFAULT_BANDS})
    return settings


def policy_from_settings(settings: RuleSettings) -> Policy:
    return Policy(
        min_age=settings.min_age,
        max_age=settings.max_age,
        max_debt_to_income=settings.max_debt_to_income,
        min_credit_score=settings.min_credit_score,
        income_cap_ratio=settings.income_cap_ratio,
        limit_step=settings.limit_step,
        bands=tuple(
            Band(
                name=b["name"],
                max_pd=Decimal(str(b["max_pd"])),
                decision=b["decision"],
                income_multiple=Decimal(str(b["income_multiple"])),
                daily_rate=Decimal(str(b["daily_rate"])),
            )
            for b in settings.bands
        ),
    )


def borrower_blocked(borrower: Borrower, *, device_id: str) -> bool:
    identifiers = [
        (BlockListEntry.Kind.NATIONAL_ID, borrower.national_id_hash),
        (BlockListEntry.Kind.MOBILE, borrower.mobile_hash),
        (BlockListEntry.Kind.DEVICE, device_id),
    ]
    wanted = [(kind, value) for kind, value in identifiers if value]
    query = BlockListEntry.objects.none()
    for kind, value in wanted:
        query = query | BlockListEntry.objects.filter(kind=kind, value=value)
    return query.exists()


def borrower_delinquent(borrower: Borrower) -> bool:
    """An overdue or written-off loan with us."""
    return Loan.objects.filter(
        credit_line__borrower=borrower, state__in=[Loan.State.OVERDUE, Loan.State.WRITTEN_OFF]
    ).exists()
