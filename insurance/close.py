"""Insurance's close-of-day steps for business date D.

All run after lending's delinquency steps (accrue 100, freeze_lines 200) and before the ledger seal.

1. `insurance.expire_policies` (240): active or suspended policies whose
   effective period ended before D expire (they enrol no new loans anyway;
   loans they cover stay covered).
2. `insurance.file_claims` (250): a claim for each covered loan reaching its
   policy's trigger DPD, once per loan.
3. `insurance.premiums` (260): for covered loans with a repayment or reversal
   on D, the premium part of the fee collected so far moves from fee income
   to premiums payable to the insurer (posting the change since last time).
4. `insurance.insurer_income` (270): interest, fee and penalty the close
   booked on D for a compensated loan are the insurer's, not the funder's.
5. `insurance.recoveries` (280): for compensated loans with a repayment or
   reversal on D, the insurer's share of what was recovered since payout,
   capped at what it compensated, is routed to it.
6. `insurance.share_losses` (350, after `lending.write_off`): a loan written
   off on D has its loss moved to whoever bears it — the insurer for the
   compensated part, then each funder pro rata.

Each step is one transaction touching only loans with something happening
on D; each records what it posted (CoverageMovement, LossAllocation, the
claim), and skips what is already recorded for D, so a re-run after a crash
never posts twice.
"""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum

from core.close import close_step
from core.money import ZERO, round_fen, split_by_weights
from insurance import postings
from insurance.models import Coverage, CoverageMovement, FundingShare, LossAllocation, Policy
from insurance.services.claims import claims_file
from ledger import chart
from ledger.models import JournalEntry, JournalLine
from ledger.services import EntryDraft, entries_post
from lending.models import Loan, RepaymentAllocation, RepaymentReversal

INCOME_ACCOUNTS = [chart.INTEREST_INCOME, chart.FEE_INCOME, chart.PENALTY_INCOME]


def _net(rows, key) -> dict:
    # To the fen: SQLite sums decimals as floating point.
    return {row[key]: round_fen(row["total"] or ZERO) for row in rows}


def _with_payment_events(coverages, business_date: date):
    """Coverages whose loan had a repayment allocated or reversed on the date."""
    allocated = RepaymentAllocation.objects.filter(journal_entry__business_date=business_date)
    reversed_ = RepaymentReversal.objects.filter(business_date=business_date)
    return coverages.filter(
        Q(loan_id__in=allocated.values("repayment__loan_id")) | Q(loan_id__in=reversed_.values("repayment__loan_id"))
    )


def _not_done(coverages, business_date: date, kind: str):
    done = CoverageMovement.objects.filter(business_date=business_date, kind=kind).values("coverage_id")
    return coverages.exclude(pk__in=done)


def _loans_lock(loan_ids) -> None:
    """Lock the loans we post for, in id order, as lending's close does: it serialises their ledger chains."""
    list(Loan.objects.select_for_update().filter(pk__in=loan_ids).order_by("pk").values_list("pk", flat=True))


def _current_allocations(loan_ids, **filters):
    """Allocations still standing: their journal entry has not been reversed."""
    reversed_entries = JournalEntry.objects.filter(reverses__isnull=False).values("reverses_id")
    return RepaymentAllocation.objects.filter(repayment__loan_id__in=loan_ids, **filters).exclude(
        journal_entry_id__in=reversed_entries
    )


def _movements_total(coverages, kind: str) -> dict[int, Decimal]:
    rows = (
        CoverageMovement.objects.filter(coverage__in=coverages, kind=kind)
        .values("coverage_id")
        .annotate(total=Sum("amount"))
    )
    return _net(rows, "coverage_id")


def _post_movements(business_date: date, kind: str, planned: list[tuple[Coverage, Decimal, EntryDraft]]) -> int:
    entries = entries_post(drafts=[draft for _, _, draft in planned], business_date=business_date)
    CoverageMovement.objects.bulk_create(
        [
            CoverageMovement(
                coverage=coverage, business_date=business_date, kind=kind, amount=amount, journal_entry=entry
            )
            for (coverage, amount, _), entry in zip(planned, entries, strict=True)
        ]
    )
    return len(planned)


def premium_part(fee: Decimal, *, fee_rate: Decimal, premium_rate: Decimal) -> Decimal:
    """The premium in a fee amount charged at `fee_rate` (service fee + premium): split by the two rates, exactly."""
    if not fee or not premium_rate:
        return ZERO
    return split_by_weights(fee, [fee_rate - premium_rate, premium_rate])[1]


@close_step("insurance.premiums", order=260)
@transaction.atomic
def premiums(*, business_date: date, progress) -> dict:
    coverages = list(
        _not_done(
            _with_payment_events(Coverage.objects.filter(state=Coverage.State.ACTIVE), business_date),
            business_date,
            CoverageMovement.Kind.PREMIUM,
        ).select_related("loan")
    )
    loan_ids = [coverage.loan_id for coverage in coverages]
    _loans_lock(loan_ids)
    fees = _net(
        _current_allocations(loan_ids).values("repayment__loan_id").annotate(total=Sum("fee")), "repayment__loan_id"
    )
    posted = _movements_total(coverages, CoverageMovement.Kind.PREMIUM)
    planned = []
    for coverage in coverages:
        due = premium_part(
            fees.get(coverage.loan_id, ZERO),
            fee_rate=coverage.loan.monthly_fee_rate,
            premium_rate=coverage.monthly_premium_rate,
        )
        delta = due - posted.get(coverage.pk, ZERO)
        if delta:
            draft = postings.transfer_draft(
                kind="premium_collected", loan_id=coverage.loan_id, reference=f"premium:{business_date}",
                debit_account=chart.FEE_INCOME, credit_account=chart.PREMIUM_PAYABLE, amount=delta,
            )  # fmt: skip
            planned.append((coverage, delta, draft))
    return {"premiums": _post_movements(business_date, CoverageMovement.Kind.PREMIUM, planned)}


@close_step("insurance.insurer_income", order=270)
@transaction.atomic
def insurer_income(*, business_date: date, progress) -> dict:
    compensated = _not_done(
        Coverage.objects.filter(state=Coverage.State.COMPENSATED, compensated_on__lte=business_date),
        business_date,
        CoverageMovement.Kind.INSURER_INCOME,
    )
    rows = (
        JournalLine.objects.filter(
            entry__business_date=business_date,
            entry__kind="day_close",
            account__code__in=INCOME_ACCOUNTS,
            loan_id__in=compensated.values("loan_id"),
        )
        .values("loan_id", "account__code")
        .annotate(total=Sum("credit") - Sum("debit"))
    )
    amounts: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for row in rows:
        if amount := round_fen(row["total"] or ZERO):
            amounts[row["loan_id"]][row["account__code"]] = amount
    coverages = list(compensated.filter(loan_id__in=list(amounts)).order_by("loan_id"))
    _loans_lock(list(amounts))
    planned = [
        (
            coverage,
            sum(amounts[coverage.loan_id].values()),
            postings.insurer_income_draft(
                loan_id=coverage.loan_id, reference=f"insurer-income:{business_date}", amounts=amounts[coverage.loan_id]
            ),
        )
        for coverage in coverages
    ]
    return {"loans": _post_movements(business_date, CoverageMovement.Kind.INSURER_INCOME, planned)}


@close_step("insurance.recoveries", order=280)
@transaction.atomic
def recoveries(*, business_date: date, progress) -> dict:
    coverages = list(
        _not_done(
            _with_payment_events(Coverage.objects.filter(state=Coverage.State.COMPENSATED), business_date),
            business_date,
            CoverageMovement.Kind.RECOVERY,
        ).select_related("policy", "claim")
    )
    _loans_lock([coverage.loan_id for coverage in coverages])
    routed = _movements_total(coverages, CoverageMovement.Kind.RECOVERY)
    income = _movements_total(coverages, CoverageMovement.Kind.INSURER_INCOME)
    planned = []
    for coverage in coverages:
        allocations = _current_allocations([coverage.loan_id], repayment__value_date__gte=coverage.compensated_on)
        totals = allocations.aggregate(p=Sum("principal"), i=Sum("interest"), f=Sum("fee"), n=Sum("penalty"))
        recovered = round_fen(sum((value or ZERO for value in totals.values()), ZERO))
        # The insurer is owed its share of recoveries, never more than it compensated (claim + income since).
        ceiling = coverage.claim.approved_amount + income.get(coverage.pk, ZERO)
        due = min(round_fen(recovered * coverage.policy.recovery_insurer_share), ceiling)
        delta = due - routed.get(coverage.pk, ZERO)
        if delta:
            draft = postings.transfer_draft(
                kind="recovery_routed", loan_id=coverage.loan_id, reference=f"recovery:{business_date}",
                debit_account=chart.COMPENSATED_LOANS, credit_account=chart.SUBROGATION_PAYABLE, amount=delta,
            )  # fmt: skip
            planned.append((coverage, delta, draft))
    return {"recoveries": _post_movements(business_date, CoverageMovement.Kind.RECOVERY, planned)}


@close_step("insurance.expire_policies", order=240)
@transaction.atomic
def expire_policies(*, business_date: date, progress) -> dict:
    ended = Policy.objects.select_for_update().filter(
        state__in=[Policy.State.ACTIVE, Policy.State.SUSPENDED], effective_to__lt=business_date
    )
    expired = 0
    for policy in ended.order_by("pk"):
        policy.expire()
        policy._change_reason = f"effective period ended {policy.effective_to}"
        policy.save()
        expired += 1
    return {"expired": expired}


@close_step("insurance.file_claims", order=250)
@transaction.atomic
def file_claims(*, business_date: date, progress) -> dict:
    claims = claims_file(business_date=business_date)
    return {"claims": len(claims), "amount": str(sum((claim.claimed_amount for claim in claims), ZERO))}


@close_step("insurance.share_losses", order=350)
@transaction.atomic
def share_losses(*, business_date: date, progress) -> dict:
    allocated = LossAllocation.objects.values("loan_id")
    released = CoverageMovement.objects.filter(kind=CoverageMovement.Kind.LOSS_RELEASE).values("coverage__loan_id")
    written_off = _net(
        JournalLine.objects.filter(
            entry__business_date=business_date, entry__kind="write_off", account__code=chart.WRITE_OFF_EXPENSE
        )
        .exclude(loan_id__in=allocated)
        .exclude(loan_id__in=released)
        .values("loan_id")
        .annotate(total=Sum("debit") - Sum("credit")),
        "loan_id",
    )
    loan_ids = sorted(written_off)
    _loans_lock(loan_ids)
    coverages = {
        coverage.loan_id: coverage for coverage in Coverage.objects.filter(loan_id__in=loan_ids).select_related("claim")
    }
    moved = {
        (row["coverage_id"], row["kind"]): round_fen(row["total"])
        for row in CoverageMovement.objects.filter(coverage__in=coverages.values())
        .values("coverage_id", "kind")
        .annotate(total=Sum("amount"))
    }
    # What the insurer compensated and has not had back: the approved claim plus income since, less recoveries.
    contra = {
        loan_id: coverage.claim.approved_amount
        + moved.get((coverage.pk, CoverageMovement.Kind.INSURER_INCOME), ZERO)
        - moved.get((coverage.pk, CoverageMovement.Kind.RECOVERY), ZERO)
        for loan_id, coverage in coverages.items()
        if hasattr(coverage, "claim") and coverage.claim.approved_amount
    }
    shares: dict[int, list[FundingShare]] = defaultdict(list)
    for share in FundingShare.objects.filter(loan_id__in=loan_ids).select_related("funder").order_by("funder_id"):
        shares[share.loan_id].append(share)
    plans = []
    for loan_id in loan_ids:
        loss = written_off[loan_id]
        release = min(max(contra.get(loan_id, ZERO), ZERO), loss)
        uncovered = loss - release
        parts = split_by_weights(uncovered, [s.share for s in shares[loan_id]]) if shares[loan_id] and uncovered else []
        allocations = list(zip(shares[loan_id], parts, strict=False))
        if release == 0 and not any(amount for _, amount in allocations):
            continue
        draft = postings.loss_draft(
            loan_id=loan_id,
            reference=f"loss:{business_date}",
            release=release,
            allocations=[(share.funder.loss_account, amount) for share, amount in allocations],
        )
        plans.append((loan_id, release, allocations, draft))
    entries = entries_post(drafts=[plan[3] for plan in plans], business_date=business_date)
    movements, rows = [], []
    for (loan_id, release, allocations, _), entry in zip(plans, entries, strict=True):
        if release:
            movements.append(
                CoverageMovement(
                    coverage=coverages[loan_id],
                    business_date=business_date,
                    kind=CoverageMovement.Kind.LOSS_RELEASE,
                    amount=release,
                    journal_entry=entry,
                )
            )
        rows += [
            LossAllocation(
                loan_id=loan_id, funder=share.funder, business_date=business_date, amount=amount, journal_entry=entry
            )
            for share, amount in allocations
            if amount
        ]
    CoverageMovement.objects.bulk_create(movements)
    LossAllocation.objects.bulk_create(rows)
    return {"loans": len(plans), "to_insurers": str(sum((m.amount for m in movements), ZERO))}
