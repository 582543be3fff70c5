"""Every underwriting write: submitting (decided at once), reviewing, withdrawing and expiring applications.

`application_submit` is the entry point the partner API calls. It checks
the input (DomainError naming the field, nothing written), runs the hard
rules and the live model (or the built-in scorecard), stores the decision
with everything needed to replay it, and on approval opens the credit line
through lending's service in the same transaction.
"""

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core import pii
from core.business_date import REASON_MAX_LENGTH, business_date_for_write
from core.errors import DomainError
from core.money import MoneyTypeError, as_decimal
from core.validation import amount_positive, text_required
from lending import identity
from lending.events import send_on_commit
from lending.models import Borrower, CreditLine, Partner, Product
from lending.services.credit_lines import credit_line_open
from underwriting.decision import Decision, ProductBounds, decision_make
from underwriting.events import applications_decided
from underwriting.features import application_data_clean
from underwriting.models import Application, ApplicationReview, BlockListEntry
from underwriting.registry import scorer_active, scorer_for
from underwriting.rules import REGULATORY_MAX_LIMIT, Applicant, Policy, jsonable
from underwriting.scoring import BUILTIN_SCORECARD
from underwriting.selectors import borrower_blocked, borrower_delinquent, policy_from_settings, rule_settings_get

DEMO_PRODUCT_CODE = "revolving-cash-line"


def _age(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _consent(consent_at, consent_scope: str, *, today: date) -> tuple[datetime, str]:
    if not isinstance(consent_at, datetime) or timezone.is_naive(consent_at):
        raise DomainError("consent_required", "the time of consent (with time zone) is required", field="consent_at")
    # Against the business date, not the wall clock: domain code is given its date.
    if timezone.localtime(consent_at).date() > today:
        raise DomainError("consent_in_future", "consent cannot be given in the future", field="consent_at")
    return consent_at, text_required(consent_scope, field="consent_scope", max_length=200)


def _refuse_open_business(borrower: Borrower) -> None:
    if borrower.credit_lines.filter(state__in=[CreditLine.State.ACTIVE, CreditLine.State.FROZEN]).exists():
        raise DomainError("line_exists", "the borrower already has a credit line", field="borrower")
    if Application.objects.filter(borrower=borrower, state=Application.State.MANUAL_REVIEW).exists():
        raise DomainError("application_pending", "the borrower has an application in review", field="borrower")


def _open_line(application: Application, *, limit: Decimal, daily_rate: Decimal, reason: str, actor) -> None:
    application.credit_line = credit_line_open(
        borrower=application.borrower,
        product=application.product,
        limit=limit,
        daily_rate=daily_rate,
        reason=reason[:REASON_MAX_LENGTH],
        actor=actor,
    )


@transaction.atomic
def application_submit(
    *,
    partner: Partner,
    borrower: Borrower,
    data: dict,
    consent_at: datetime,
    consent_scope: str,
    requested_amount: Decimal | None = None,
    product: Product | None = None,
    external_reference: str = "",
    actor=None,
) -> Application:
    """Submit and decide an application at once: approved (line opened), declined, or sent to manual review."""
    if borrower.partner_id != partner.pk:
        raise DomainError("borrower_not_found", "no such borrower for this partner", field="borrower")
    product = product or Product.objects.get(code=DEMO_PRODUCT_CODE)
    if not product.is_active:
        raise DomainError("product_inactive", "the product is not open for new lines", field="product")
    if requested_amount is not None:
        requested_amount = amount_positive(requested_amount, field="requested_amount")
    is_business = borrower.kind == Borrower.Kind.BUSINESS
    clean = application_data_clean(data, is_business=is_business)
    external_reference = (external_reference or "")[:100]
    today = business_date_for_write()
    consent_at, consent_scope = _consent(consent_at, consent_scope, today=today)
    _refuse_open_business(borrower)
    version, scorer = scorer_active()
    policy = policy_from_settings(rule_settings_get())
    applicant = Applicant(
        age=None if is_business else _age(borrower.date_of_birth, today),
        is_business=is_business,
        identity_verified=clean["identity_verified"],
        blocked=borrower_blocked(borrower, device_id=clean.get("device_id", "")),
        debt_to_income=Decimal(clean.get("monthly_obligations", "0")) / Decimal(clean["monthly_income"]),
        credit_score=clean.get("credit_score"),
        delinquent_with_us=borrower_delinquent(borrower),
        delinquent_elsewhere=clean.get("delinquent_elsewhere", False),
        requested_amount=requested_amount,
        product_min_limit=product.min_limit,
        product_max_limit=product.max_limit,
    )
    bounds = ProductBounds(product.min_limit, product.max_limit, product.min_daily_rate, product.max_daily_rate)
    decision = decision_make(
        data=clean, is_business=is_business, applicant=applicant, policy=policy, scorer=scorer, bounds=bounds
    )
    application = Application(
        partner=partner,
        borrower=borrower,
        product=product,
        requested_amount=requested_amount,
        data=clean,
        device_id=clean.get("device_id", ""),
        consent_at=consent_at,
        consent_scope=consent_scope,
        external_reference=external_reference,
        submitted_on=today,
    )
    _record_decision(application, decision, today=today, scorer=scorer.name, version=version)
    application.rule_inputs = jsonable({"applicant": asdict(applicant), "bounds": asdict(bounds)})
    application.policy = policy.as_record()
    {"approve": application.approve, "decline": application.decline, "manual_review": application.refer}[
        decision.outcome
    ]()
    application._change_reason = f"automated decision: {decision.outcome} (band {decision.band})"
    if decision.outcome == "approve":
        # The line first, so the application is written once (one row, one history row) on the hot path.
        _open_line(
            application,
            limit=decision.limit,
            daily_rate=decision.daily_rate,
            reason=f"approved by underwriting, band {decision.band}",
            actor=actor,
        )
    application.save()
    if application.state != Application.State.MANUAL_REVIEW:
        send_on_commit(applications_decided, application_ids=[application.pk])
    return application


def _record_decision(application: Application, decision: Decision, *, today: date, scorer: str, version) -> None:
    application.decided_on = today
    application.automated_decision = decision.outcome
    application.scorer = scorer
    application.model_version = version
    application.features = decision.features
    application.rule_results = decision.rule_results
    application.pd = decision.pd
    application.band = decision.band
    application.offered_limit = decision.limit
    application.offered_rate = decision.daily_rate
    application.reasons = decision.reasons


def _lock(application_id: int) -> Application:
    try:
        return Application.objects.select_for_update().select_related("borrower", "product").get(pk=application_id)
    except Application.DoesNotExist:
        raise DomainError("application_not_found", "no such application", field="application") from None


def _reviewed_terms(application: Application, limit, daily_rate) -> tuple[Decimal, Decimal]:
    """A reviewer may change the offer, within the product and the regulatory caps."""
    product = application.product
    limit = amount_positive(limit if limit is not None else application.offered_limit or 0, field="limit")
    income = Decimal(application.data["monthly_income"])
    policy_cap = income * 12 * Decimal(application.policy["income_cap_ratio"])
    cap = min(product.max_limit, REGULATORY_MAX_LIMIT, policy_cap)
    if not product.min_limit <= limit <= cap:
        raise DomainError("limit_out_of_range", f"must be between {product.min_limit} and {cap:.2f}", field="limit")
    if daily_rate is None:
        daily_rate = application.offered_rate or product.default_daily_rate
    try:
        daily_rate = as_decimal(daily_rate)
    except MoneyTypeError:
        raise DomainError("invalid_rate", "must be a decimal number", field="daily_rate") from None
    if not product.min_daily_rate <= daily_rate <= product.max_daily_rate:
        raise DomainError(
            "rate_out_of_range",
            f"must be between {product.min_daily_rate} and {product.max_daily_rate}",
            field="daily_rate",
        )
    return limit, daily_rate


@transaction.atomic
def application_review(
    *, application_id: int, reviewer, verdict: str, notes: str, limit=None, daily_rate=None
) -> Application:
    """A reviewer's verdict on an application in manual review.

    A decline ends the review. An approval of a limit above the four-eyes
    threshold is recorded and waits for a second, different reviewer
    approving the same limit and rate; at or below it one approval suffices.
    """
    notes = text_required(notes, field="notes", max_length=2000)
    if verdict not in ApplicationReview.Verdict.values:
        raise DomainError("invalid_verdict", "must be approve or decline", field="verdict")
    if reviewer is None or not reviewer.pk:
        raise DomainError("reviewer_required", "a signed-in reviewer is required", field="reviewer")
    application = _lock(application_id)
    if application.state != Application.State.MANUAL_REVIEW:
        raise DomainError("not_in_review", f"the application is {application.state}", field="application")
    if verdict == ApplicationReview.Verdict.DECLINE:
        ApplicationReview.objects.create(application=application, reviewer=reviewer, verdict=verdict, notes=notes)
        application.review_decline()
        application.reasons = [{"code": "declined_on_review", "message": "Declined after review by our staff."}]
        application._change_reason = f"declined on review by {reviewer}"
        application.save()
        send_on_commit(applications_decided, application_ids=[application.pk])
        return application
    limit, daily_rate = _reviewed_terms(application, limit, daily_rate)
    threshold = rule_settings_get().four_eyes_limit
    earlier = application.reviews.filter(verdict=ApplicationReview.Verdict.APPROVE, limit=limit, daily_rate=daily_rate)
    if limit > threshold and earlier.filter(reviewer=reviewer).exists():
        raise DomainError(
            "four_eyes", f"a limit above {threshold} needs a second reviewer; you already approved it", field="reviewer"
        )
    ApplicationReview.objects.create(
        application=application, reviewer=reviewer, verdict=verdict, limit=limit, daily_rate=daily_rate, notes=notes
    )
    if limit > threshold and not earlier.exclude(reviewer=reviewer).exists():
        application._change_reason = f"first approval by {reviewer}; a second reviewer is needed"
        application.save()
        return application
    application.review_approve()
    application.offered_limit, application.offered_rate = limit, daily_rate
    application._change_reason = f"approved on review by {reviewer}"
    application.save()
    _open_line(
        application, limit=limit, daily_rate=daily_rate, reason=f"application {application.pk} approved on review",
        actor=reviewer,
    )  # fmt: skip
    application.save(update_fields=["credit_line"])
    send_on_commit(applications_decided, application_ids=[application.pk])
    return application


@transaction.atomic
def application_withdraw(*, application_id: int, reason: str, actor=None) -> Application:
    reason = text_required(reason, field="reason", max_length=REASON_MAX_LENGTH)
    application = _lock(application_id)
    if application.state not in {Application.State.SUBMITTED, Application.State.MANUAL_REVIEW}:
        raise DomainError("not_withdrawable", f"the application is {application.state}", field="application")
    application.withdraw()
    application._change_reason = reason
    application.save()
    return application


def applications_expire(*, business_date: date) -> int:
    """Applications left in manual review longer than the settings allow expire (close of day)."""
    cutoff = business_date.toordinal() - rule_settings_get().review_expiry_days
    stale = Application.objects.filter(
        state=Application.State.MANUAL_REVIEW, submitted_on__lte=date.fromordinal(cutoff)
    ).values_list("pk", flat=True)
    expired = 0
    for pk in stale:
        with transaction.atomic():
            application = _lock(pk)
            if application.state == Application.State.MANUAL_REVIEW:
                application.expire()
                application._change_reason = "not reviewed in time"
                application.save()
                expired += 1
    return expired


def application_decision_replay(application: Application) -> Decision:
    """Decide again from the stored record alone (data, rule inputs, policy, model version): for audits."""
    inputs = application.rule_inputs
    facts = dict(inputs["applicant"])
    for name in ("debt_to_income", "requested_amount", "product_min_limit", "product_max_limit"):
        if facts[name] is not None:
            facts[name] = Decimal(facts[name])
    scorer = scorer_for(application.model_version) if application.model_version else BUILTIN_SCORECARD
    return decision_make(
        data=application.data,
        is_business=facts["is_business"],
        applicant=Applicant(**facts),
        policy=Policy.from_record(application.policy),
        scorer=scorer,
        bounds=ProductBounds(**{k: Decimal(v) for k, v in inputs["bounds"].items()}),
    )


@transaction.atomic
def block_list_add(*, kind: str, identifier: str, reason: str) -> BlockListEntry:
    """Block a national id or mobile (stored only as its keyed hash) or a device id."""
    reason = text_required(reason, field="reason", max_length=200)
    identifier = text_required(identifier, field="identifier", max_length=100)
    if kind == BlockListEntry.Kind.NATIONAL_ID:
        value = pii.lookup_hash(identity.national_id_normalize(identifier, field="identifier", today=date.max))
    elif kind == BlockListEntry.Kind.MOBILE:
        value = pii.lookup_hash(identity.mobile_normalize(identifier, field="identifier"))
    elif kind == BlockListEntry.Kind.DEVICE:
        value = identifier
    else:
        raise DomainError("invalid_kind", f"must be one of {', '.join(BlockListEntry.Kind.values)}", field="kind")
    entry, _ = BlockListEntry.objects.get_or_create(kind=kind, value=value, defaults={"reason": reason})
    return entry
