"""Reads shared by the services, commands and admin: the rule settings as a policy, the book facts the rules need."""

from datetime import date, timedelta
from decimal import Decimal

from lending.delinquency import BUCKETS
from lending.models import Borrower, Loan, LoanBucketChange
from underwriting.features import FEATURE_NAMES
from underwriting.models import DEFAULT_BANDS, Application, BlockListEntry, RuleSettings
from underwriting.rules import Band, Policy
from underwriting.training import Dataset, dataset_from_rows

# 90+ DPD ("more than 90 days") is bucket M4 (91–120) and worse.
SEVERE_BUCKETS = BUCKETS[BUCKETS.index("M4") :]


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


def portfolio_dataset(*, today: date, window_days: int) -> Dataset:
    """Approved applications whose performance window has ended, labelled bad when a loan on their line
    reached 90+ DPD (bucket M4 or worse) or was written off within the window.

    Only approved applicants have outcomes, so a model trained here learns the approved population (no
    reject inference); the built-in scorecard's cut-offs shaped who that is.
    """
    matured = list(
        Application.objects.filter(
            credit_line__isnull=False, decided_on__lte=today - timedelta(days=window_days)
        ).values_list("pk", "credit_line_id", "decided_on", "features")
    )
    bad_lines = set()
    windows = {line_id: decided_on + timedelta(days=window_days) for _, line_id, decided_on, _ in matured}
    severe = LoanBucketChange.objects.filter(
        loan__credit_line_id__in=windows, to_bucket__in=SEVERE_BUCKETS
    ).values_list("loan__credit_line_id", "business_date")
    written_off = Loan.objects.filter(credit_line_id__in=windows, state=Loan.State.WRITTEN_OFF).values_list(
        "credit_line_id", "closed_on"
    )
    for line_id, on in [*severe, *written_off]:
        if on is not None and on <= windows[line_id]:
            bad_lines.add(line_id)
    rows = [[features[name] for name in FEATURE_NAMES] for _, _, _, features in matured]
    labels = [int(line_id in bad_lines) for _, line_id, _, _ in matured]
    return dataset_from_rows(FEATURE_NAMES, rows, labels)


def application_awaits_second_approval(application: Application, *, reviewer) -> bool:
    """True when another reviewer's approval is on record and the application is still in review.

    An approval now would be the second pair of eyes (application_review's four-eyes rule).
    """
    return (
        application.state == Application.State.MANUAL_REVIEW
        and application.reviews.filter(verdict="approve").exclude(reviewer=reviewer).exists()
    )
