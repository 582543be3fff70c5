"""Exports for insurers and risk staff: the monthly bordereau, the premium statement, CSV rendering."""

import calendar
import csv
import io
import re
from datetime import date

from django.db.models import Count, Q, Sum

from core.errors import DomainError
from core.money import ZERO, round_fen
from insurance.models import Coverage, CoverageMovement, Insurer

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def month_parse(value: str) -> tuple[date, date]:
    """First and last day of a "YYYY-MM" month; anything else is refused naming the field."""
    if not isinstance(value, str) or not _MONTH.match(value):
        raise DomainError("invalid_month", f"{value!r} is not a month in YYYY-MM form", field="month")
    year, month = int(value[:4]), int(value[5:])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def insurer_get(code: str) -> Insurer:
    insurer = Insurer.objects.filter(code=code).first()
    if insurer is None:
        raise DomainError("unknown_insurer", f"no insurer with code {code!r}", field="insurer")
    return insurer


BORDEREAU_COLUMNS = [
    "loan", "policy", "policy_year", "enrolled_on", "insured_principal", "monthly_premium_rate",
    "premium_in_month", "loan_state", "principal_outstanding", "dpd_bucket", "coverage_state", "compensated_on",
    "claim_state", "claim_filed_on", "claimed_amount", "approved_amount", "claim_paid_on",
]  # fmt: skip


def bordereau(*, insurer: Insurer, month: str) -> list[dict]:
    """Every loan the insurer's policies covered by the month's end, with its status and the month's premium.

    Balances and states are as they stand now (the loan's cached balances), so a
    bordereau is exported after the month's last close.
    """
    first, last = month_parse(month)
    coverages = (
        Coverage.objects.filter(policy__insurer=insurer, enrolled_on__lte=last)
        .select_related("loan", "policy", "claim")
        .annotate(
            premium_in_month=Sum(
                "movements__amount",
                filter=Q(movements__kind=CoverageMovement.Kind.PREMIUM, movements__business_date__range=(first, last)),
            )
        )
        .order_by("policy__number", "enrolled_on", "loan_id")
    )
    rows = []
    for coverage in coverages:
        claim = getattr(coverage, "claim", None)
        rows.append(
            {
                "loan": coverage.loan.number,
                "policy": coverage.policy.number,
                "policy_year": coverage.policy_year,
                "enrolled_on": coverage.enrolled_on,
                "insured_principal": coverage.insured_principal,
                "monthly_premium_rate": coverage.monthly_premium_rate,
                "premium_in_month": round_fen(coverage.premium_in_month or ZERO),
                "loan_state": coverage.loan.state,
                "principal_outstanding": coverage.loan.principal_outstanding,
                "dpd_bucket": coverage.loan.dpd_bucket,
                "coverage_state": coverage.state,
                "compensated_on": coverage.compensated_on or "",
                "claim_state": claim.state if claim else "",
                "claim_filed_on": claim.filed_on if claim else "",
                "claimed_amount": claim.claimed_amount if claim else "",
                "approved_amount": (claim.approved_amount or "") if claim else "",
                "claim_paid_on": (claim.paid_on or "") if claim else "",
            }
        )
    return rows


PREMIUM_STATEMENT_COLUMNS = ["policy", "loans", "premium"]


def premium_statement(*, insurer: Insurer, month: str) -> dict:
    """Premiums collected for the insurer in a month (net of reversals), per policy, with the total owed."""
    first, last = month_parse(month)
    rows = (
        CoverageMovement.objects.filter(
            kind=CoverageMovement.Kind.PREMIUM,
            coverage__policy__insurer=insurer,
            business_date__range=(first, last),
        )
        .values("coverage__policy__number")
        .annotate(loans=Count("coverage_id", distinct=True), premium=Sum("amount"))
        .order_by("coverage__policy__number")
    )
    policies = [
        {"policy": row["coverage__policy__number"], "loans": row["loans"], "premium": round_fen(row["premium"])}
        for row in rows
    ]
    return {
        "insurer": insurer.code,
        "month": month,
        "policies": policies,
        "total": sum((row["premium"] for row in policies), ZERO),
    }


def csv_text(columns: list[str], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
