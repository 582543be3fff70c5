"""Days past due and DPD buckets (pure).

DPD on business date D is D minus the due date of the oldest overdue
installment. Buckets follow DOMAIN.md: M0 current, M1 1–30, M2 31–60,
M3 61–90, M4 91–120, M5 121–150, M6 151–180, M7 181+.
"""

from datetime import date

BUCKETS = ["M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7"]
BUCKET_DAYS = 30


def days_past_due(*, overdue_since: date | None, on_date: date) -> int:
    return (on_date - overdue_since).days if overdue_since else 0


def dpd_bucket(dpd: int) -> str:
    if dpd <= 0:
        return "M0"
    return BUCKETS[min((dpd - 1) // BUCKET_DAYS + 1, len(BUCKETS) - 1)]
