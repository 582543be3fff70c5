"""Opening credit lines and changing their limit, rate and state, every change recorded."""

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django_fsm import can_proceed

from core.bulk import rows_update
from core.business_date import REASON_MAX_LENGTH, business_date_for_write
from core.errors import DomainError
from core.money import as_decimal, round_fen, round_rate
from core.validation import amount_positive, text_required
from lending import events
from lending.locking import credit_line_lock
from lending.models import Borrower, CreditLine, CreditLineChange, Product

LINE_VALIDITY_DAYS = 365


def _reason(reason: str) -> str:
    """Every change needs a reason; it becomes the history's change reason, which has a length limit."""
    return text_required(reason, field="reason", max_length=REASON_MAX_LENGTH)


def _record(line: CreditLine, field: str, old, new, *, reason: str, actor, today: date) -> None:
    change = CreditLineChange.objects.create(
        credit_line=line,
        field=field,
        old_value=str(old),
        new_value=str(new),
        reason=reason,
        actor=actor,
        business_date=today,
    )
    events.send_on_commit(events.credit_line_changes_recorded, change_ids=[change.pk])


def _check_limit(product: Product, limit: Decimal) -> Decimal:
    limit = amount_positive(limit, field="limit")
    if not product.min_limit <= limit <= product.max_limit:
        raise DomainError(
            "limit_out_of_range",
            f"must be between {product.min_limit} and {product.max_limit}",
            field="limit",
        )
    return round_fen(limit)


def _check_rate(product: Product, daily_rate: Decimal) -> Decimal:
    daily_rate = as_decimal(daily_rate)
    if not product.min_daily_rate <= daily_rate <= product.max_daily_rate:
        raise DomainError(
            "rate_out_of_range",
            f"must be between {product.min_daily_rate} and {product.max_daily_rate} per day",
            field="daily_rate",
        )
    return round_rate(daily_rate)


@transaction.atomic
def credit_line_open(
    *, borrower: Borrower, product: Product, limit: Decimal, daily_rate: Decimal, reason: str, actor=None
) -> CreditLine:
    """Grant an active line (underwriting calls this on approval)."""
    reason = _reason(reason)
    today = business_date_for_write()
    if not product.is_active:
        raise DomainError("product_inactive", "the product is not open for new lines", field="product")
    limit, daily_rate = _check_limit(product, limit), _check_rate(product, daily_rate)
    line = CreditLine(
        borrower=borrower,
        product=product,
        limit=limit,
        daily_rate=daily_rate,
        valid_from=today,
        valid_until=today + timedelta(days=LINE_VALIDITY_DAYS),
    )
    line.activate()
    line._change_reason = reason
    line.save()
    _record(
        line,
        CreditLineChange.Field.STATE,
        CreditLine.State.PENDING,
        line.state,
        reason=reason,
        actor=actor,
        today=today,
    )
    return line


@transaction.atomic
def credit_line_change_limit(*, credit_line_id: int, new_limit: Decimal, reason: str, actor=None) -> CreditLine:
    """A new limit; lowering below what is used is allowed (no new drawdowns until repaid)."""
    reason = _reason(reason)
    today = business_date_for_write()
    line = credit_line_lock(credit_line_id)
    if line.state == CreditLine.State.CLOSED:
        raise DomainError("line_closed", "the credit line is closed", field="credit_line")
    new_limit = _check_limit(line.product, new_limit)
    if new_limit != line.limit:
        _record(line, CreditLineChange.Field.LIMIT, line.limit, new_limit, reason=reason, actor=actor, today=today)
        line.limit = new_limit
        line._change_reason = reason
        line.save(update_fields=["limit"])
    return line


@transaction.atomic
def credit_line_change_rate(*, credit_line_id: int, new_daily_rate: Decimal, reason: str, actor=None) -> CreditLine:
    """A new rate for future drawdowns; loans keep their contract rate."""
    reason = _reason(reason)
    today = business_date_for_write()
    line = credit_line_lock(credit_line_id)
    new_daily_rate = _check_rate(line.product, new_daily_rate)
    if new_daily_rate != line.daily_rate:
        _record(
            line,
            CreditLineChange.Field.DAILY_RATE,
            line.daily_rate,
            new_daily_rate,
            reason=reason,
            actor=actor,
            today=today,
        )
        line.daily_rate = new_daily_rate
        line._change_reason = reason
        line.save(update_fields=["daily_rate"])
    return line


def _transition(credit_line_id: int, transition_name: str, *, reason: str, actor) -> CreditLine:
    reason = _reason(reason)
    today = business_date_for_write()
    line = credit_line_lock(credit_line_id)
    old = line.state
    transition = getattr(line, transition_name)
    if not can_proceed(transition):
        raise DomainError("transition_not_allowed", f"a {old} credit line cannot {transition_name}", field="state")
    transition()
    # Staff now own the line's state: a freeze the close set for delinquency is no longer the close's to lift.
    line.frozen_for_delinquency = False
    line._change_reason = reason
    line.save()
    _record(line, CreditLineChange.Field.STATE, old, line.state, reason=reason, actor=actor, today=today)
    return line


@transaction.atomic
def credit_line_freeze(*, credit_line_id: int, reason: str, actor=None) -> CreditLine:
    return _transition(credit_line_id, "freeze", reason=reason, actor=actor)


@transaction.atomic
def credit_line_unfreeze(*, credit_line_id: int, reason: str, actor=None) -> CreditLine:
    return _transition(credit_line_id, "unfreeze", reason=reason, actor=actor)


@transaction.atomic
def credit_line_close(*, credit_line_id: int, reason: str, actor=None) -> CreditLine:
    return _transition(credit_line_id, "close", reason=reason, actor=actor)


@transaction.atomic
def credit_lines_reassess(*, new_limits: dict[int, Decimal], freeze: set[int], reason: str, actor=None) -> int:
    """Many lines at once (underwriting's periodic reassessment): new limits and freezes of active lines.

    Locks the lines in id order, checks each limit against its product,
    writes one statement per table and one history row per changed line
    (the pattern of the close's freeze step), so a million-line book is
    reassessed in bulk, not line by line.
    """
    reason = _reason(reason)
    today = business_date_for_write()
    lines = list(
        CreditLine.objects.select_for_update(of=("self",))
        .select_related("product")
        .filter(pk__in=set(new_limits) | set(freeze), state=CreditLine.State.ACTIVE)
        .order_by("pk")
    )
    changes = []
    for line in lines:
        if line.pk in freeze:
            line.freeze()
            field, old, new = CreditLineChange.Field.STATE, CreditLine.State.ACTIVE, line.state
        else:
            new_limit = _check_limit(line.product, new_limits[line.pk])
            field, old, new = CreditLineChange.Field.LIMIT, line.limit, new_limit
            line.limit = new_limit
        changes.append(
            CreditLineChange(
                credit_line=line, field=field, old_value=str(old), new_value=str(new), reason=reason, actor=actor,
                business_date=today,
            )
        )  # fmt: skip
    rows_update(CreditLine, lines, ["limit", "state"])
    CreditLine.history.bulk_history_create(lines, update=True, default_change_reason=reason)
    CreditLineChange.objects.bulk_create(changes)
    return len(lines)
