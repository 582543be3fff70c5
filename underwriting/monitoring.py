"""Drawdown monitoring: screening rules run before a drawdown, alerts for risk staff, holds, and score drift.

`drawdown_request` is how the partner API should draw on a line: it
screens the drawdown and either pays it out at once (lending's
`loan_drawdown(disburse=True)`) or, when a rule matches, creates the loan
pending disbursement and holds it with an alert. Risk staff release
(disburse) or reject (cancel) a held drawdown.
"""

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.utils import timezone

from core.errors import DomainError
from core.validation import amount_positive
from lending.locking import credit_line_lock
from lending.models import Loan
from lending.services.loans import loan_cancel, loan_disburse, loan_drawdown
from underwriting.models import Application, DrawdownAlert, ModelVersion
from underwriting.selectors import rule_settings_get
from underwriting.training import psi


def _screen(line, amount: Decimal, device_id: str, now) -> list[tuple[str, str]]:
    settings = rule_settings_get()
    hits = []
    opened_minutes = (now - line.created_at).total_seconds() / 60
    drawn = (line.used + amount) / line.limit
    if opened_minutes <= settings.fast_full_draw_minutes and drawn >= settings.fast_full_draw_share:
        detail = f"{drawn:.0%} of the limit drawn {opened_minutes:.0f} minutes after the line opened"
        hits.append((DrawdownAlert.Rule.FAST_FULL_DRAW, detail))
    recent = Loan.objects.filter(credit_line=line, created_at__gte=now - timedelta(hours=settings.burst_hours)).count()
    if recent + 1 >= settings.burst_drawdowns:
        hits.append((DrawdownAlert.Rule.BURST, f"{recent + 1} drawdowns within {settings.burst_hours} hours"))
    if device_id:
        borrowers = Application.objects.filter(device_id=device_id).values("borrower_id").distinct().count()
        if borrowers >= settings.device_borrowers:
            hits.append(
                (DrawdownAlert.Rule.SHARED_DEVICE, f"{borrowers} borrowers applied from device {device_id[:40]}")
            )
    return hits


@transaction.atomic
def drawdown_request(
    *, credit_line_id: int, amount, term_months, method, idempotency_key: str = "", device_id: str = "", actor=None
) -> tuple[Loan, list[DrawdownAlert]]:
    """Screen and draw: paid out at once, or held (pending) with alerts when a screening rule matches."""
    amount = amount_positive(amount, field="amount")
    line = credit_line_lock(credit_line_id)
    hits = _screen(line, amount, device_id[:100], timezone.now())
    loan = loan_drawdown(
        credit_line_id=credit_line_id, amount=amount, term_months=term_months, method=method,
        idempotency_key=idempotency_key, disburse=not hits, actor=actor,
    )  # fmt: skip
    alerts = [
        DrawdownAlert.objects.create(credit_line=line, loan=loan, rule=rule, detail=detail[:200], held=True)
        for rule, detail in hits
    ]
    return loan, alerts


def _resolve(alert_id: int, state: str, actor) -> DrawdownAlert:
    alert = DrawdownAlert.objects.select_for_update().filter(pk=alert_id).first()
    if alert is None:
        raise DomainError("alert_not_found", "no such alert", field="alert")
    if alert.state != DrawdownAlert.State.OPEN:
        raise DomainError("alert_resolved", f"the alert is {alert.state}", field="alert")
    siblings = DrawdownAlert.objects.select_for_update().filter(loan=alert.loan, state=DrawdownAlert.State.OPEN)
    for each in siblings if alert.loan_id else [alert]:
        each.state, each.resolved_by = state, actor
        each._change_reason = f"{state} by {actor}"
        each.save()
    alert.refresh_from_db()
    return alert


@transaction.atomic
def drawdown_alert_release(*, alert_id: int, actor) -> DrawdownAlert:
    """Pay out the held drawdown (every open alert on it is released)."""
    alert = _resolve(alert_id, DrawdownAlert.State.RELEASED, actor)
    if alert.held and alert.loan_id:
        loan_disburse(loan_id=alert.loan_id, actor=actor)
    return alert


@transaction.atomic
def drawdown_alert_reject(*, alert_id: int, reason: str, actor) -> DrawdownAlert:
    """Cancel the held drawdown; its amount returns to the line."""
    alert = _resolve(alert_id, DrawdownAlert.State.REJECTED, actor)
    if alert.held and alert.loan_id:
        loan_cancel(loan_id=alert.loan_id, reason=reason, actor=actor)
    return alert


def score_drift(*, version: ModelVersion | None = None, months: int = 12, today: date) -> list[dict]:
    """Population stability index of application PDs per month against the model's training baseline."""
    version = version or ModelVersion.objects.filter(is_active=True).first()
    if version is None:
        return []
    start = date(today.year, today.month, 1)
    for _ in range(months - 1):
        start = (start - timedelta(days=1)).replace(day=1)
    rows = Application.objects.filter(model_version=version, submitted_on__gte=start).values_list("submitted_on", "pd")
    by_month: dict[str, list[float]] = {}
    for submitted_on, pd in rows:
        by_month.setdefault(submitted_on.strftime("%Y-%m"), []).append(float(pd))
    return [
        {"month": month, "applications": len(scores), "psi": round(psi(version.baseline, np.array(scores)), 4)}
        for month, scores in sorted(by_month.items())
    ]
