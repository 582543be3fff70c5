"""Periodic limit reassessment: read the active book in id-range chunks with a handful of set-based queries,
score each chunk with numpy (underwriting.reassessment), and apply the changes in bulk through lending."""

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.db.models import Count, Max, Min, Q

from core.business_date import business_date_current
from lending.delinquency import BUCKETS
from lending.models import CreditLine, Loan, LoanBucketChange
from lending.services.credit_lines import credit_lines_reassess
from underwriting.models import Application, LimitReview
from underwriting.reassessment import (
    ACTION_NAMES,
    FREEZE,
    KEEP,
    LOWER,
    RAISE,
    Lines,
    Params,
    as_decimal_limit,
    reasons_for,
    reassess,
)
from underwriting.selectors import rule_settings_get

LOOKBACK_DAYS = 180
COOL_OFF_DAYS = 30  # a line changed by a reassessment is left alone this long
DEFAULT_PD = 0.05  # a line opened without an application (by staff)
FREEZE_PD = 0.5
SEVERE = BUCKETS[BUCKETS.index("M2") :]


def _params() -> Params:
    """The policy's ratios as floats for the numpy pass over the book: probabilities and ratios, never amounts
    (each new limit comes back as Decimal through core.money.round_fen in as_decimal_limit)."""
    settings = rule_settings_get()
    return Params(
        raise_pd=float(settings.reassess_raise_pd),
        lower_pd=float(settings.reassess_lower_pd),
        freeze_pd=FREEZE_PD,
        raise_utilisation=float(settings.reassess_raise_utilisation),
        step=float(settings.reassess_step),
        income_cap_ratio=float(settings.income_cap_ratio),
        limit_step=float(settings.limit_step),
    )


def _chunk_lines(low: int, high: int, today: date) -> tuple[list[int], Lines] | None:
    in_range = {"pk__gte": low, "pk__lt": high}
    recent = LimitReview.objects.filter(
        credit_line_id__gte=low, credit_line_id__lt=high, business_date__gt=today - timedelta(days=COOL_OFF_DAYS)
    ).values("credit_line_id")
    rows = list(
        CreditLine.objects.filter(state=CreditLine.State.ACTIVE, **in_range)
        .exclude(pk__in=recent)
        .order_by("pk")
        .values_list(
            "pk", "limit", "used", "valid_from", "product__min_limit", "product__max_limit", "borrower__monthly_income"
        )
    )
    if not rows:
        return None
    ids = [row[0] for row in rows]
    index = {pk: i for i, pk in enumerate(ids)}
    n = len(ids)
    by_line = {"credit_line_id__gte": low, "credit_line_id__lt": high}
    application_pd = np.full(n, DEFAULT_PD)
    for line_id, pd in Application.objects.filter(**by_line).values_list("credit_line_id", "pd"):
        if line_id in index and pd is not None:
            application_pd[index[line_id]] = float(pd)
    late, severe = np.zeros(n), np.zeros(n)
    episodes = (
        LoanBucketChange.objects.filter(
            business_date__gt=today - timedelta(days=LOOKBACK_DAYS),
            loan__credit_line_id__gte=low,
            loan__credit_line_id__lt=high,
        )
        .values("loan__credit_line_id")
        .annotate(late=Count("pk", filter=Q(to_bucket="M1")), severe=Count("pk", filter=Q(to_bucket__in=SEVERE)))
    )
    for row in episodes:
        i = index.get(row["loan__credit_line_id"])
        if i is not None:
            late[i], severe[i] = row["late"], row["severe"]
    overdue = np.zeros(n, dtype=bool)
    for line_id in Loan.objects.filter(state=Loan.State.OVERDUE, **by_line).values_list("credit_line_id", flat=True):
        if line_id in index:
            overdue[index[line_id]] = True
    columns = list(zip(*rows, strict=True))
    lines = Lines(
        limit=np.array(columns[1], dtype=float),
        used=np.array(columns[2], dtype=float),
        application_pd=application_pd,
        months_on_book=np.array([(today - opened).days / 30.4 for opened in columns[3]]),
        late_episodes=late,
        severe_episodes=severe,
        overdue_now=overdue,
        monthly_income=np.array([float(v or 0) for v in columns[6]]),
        product_min=np.array(columns[4], dtype=float),
        product_max=np.array(columns[5], dtype=float),
    )
    return ids, lines


def _apply(ids, lines: Lines, action, new_limit, pd, today: date) -> None:
    changed = np.flatnonzero(action != KEEP)
    reviews = [
        LimitReview(
            credit_line_id=ids[i],
            business_date=today,
            action=ACTION_NAMES[int(action[i])],
            old_limit=as_decimal_limit(lines.limit[i]),
            new_limit=as_decimal_limit(new_limit[i]),
            pd=Decimal(f"{pd[i]:.8f}"),
            reasons=reasons_for(lines, int(i), int(action[i])),
        )
        for i in changed
    ]
    with transaction.atomic():
        for code in (RAISE, LOWER):
            chosen = np.flatnonzero(action == code)
            if len(chosen):
                credit_lines_reassess(
                    new_limits={ids[i]: as_decimal_limit(new_limit[i]) for i in chosen},
                    freeze=set(),
                    reason=f"periodic reassessment: {ACTION_NAMES[code]} (see limit review)",
                )
        frozen = np.flatnonzero(action == FREEZE)
        if len(frozen):
            credit_lines_reassess(
                new_limits={}, freeze={ids[i] for i in frozen}, reason="periodic reassessment: behaviour score too high"
            )
        LimitReview.objects.bulk_create(reviews, batch_size=2000)


def limits_reassess(*, chunk_size: int = 50_000, dry_run: bool = False, progress=None) -> dict:
    """Re-score every active line and raise, lower or freeze it; `dry_run` scores without writing."""
    today = business_date_current()
    params = _params()
    bounds = CreditLine.objects.filter(state=CreditLine.State.ACTIVE).aggregate(low=Min("pk"), high=Max("pk"))
    counts = {"scored": 0, "raise": 0, "lower": 0, "freeze": 0}
    if bounds["low"] is None:
        return counts
    for low in range(bounds["low"], bounds["high"] + 1, chunk_size):
        chunk = _chunk_lines(low, low + chunk_size, today)
        if chunk is None:
            continue
        ids, lines = chunk
        action, new_limit, pd = reassess(lines, params)
        counts["scored"] += len(ids)
        for code, name in ACTION_NAMES.items():
            counts[name] += int(np.count_nonzero(action == code))
        if not dry_run:
            _apply(ids, lines, action, new_limit, pd, today)
        if progress:
            progress(counts["scored"])
    return counts
