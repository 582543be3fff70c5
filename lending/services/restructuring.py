"""Hardship restructuring: a loan's remaining balance moved to a new schedule, balanced in the ledger.

Collections decides and records the hardship plan (reason, requester,
approver); this is the lending half, because only lending may rewrite a
schedule and post against the loan's receivables.
"""

from decimal import Decimal

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from core.business_date import business_date_for_write
from core.errors import DomainError
from core.money import ZERO
from core.validation import text_required
from ledger import chart
from ledger.services import EntryDraft, credit, debit, entry_post, loan_chain
from lending import engine, postings
from lending.locking import installments_lock, loan_lock
from lending.models import Installment, LoanRestructure
from lending.positions import loan_sync, loan_terms, positions_load, positions_save

MAX_TERM_MONTHS = 36


def _capitalisation_draft(*, loan_id: int, reference: str, portions: list[engine.Portion]) -> EntryDraft | None:
    """Dr principal receivable; Cr each receivable capitalised, or income for interest earned but not yet due."""
    total = sum((portion.amount for portion in portions), ZERO)
    if total == 0:
        return None
    credits: dict[str, Decimal] = {}
    for portion in portions:
        account = postings.RECEIVABLE[portion.component] if portion.recognized else postings.INCOME[portion.component]
        credits[account] = credits.get(account, ZERO) + portion.amount
    return EntryDraft(
        kind="restructure_capitalisation",
        chain=loan_chain(loan_id),
        reference=reference,
        lines=[
            debit(chart.PRINCIPAL_RECEIVABLE, total, loan_id=loan_id),
            *(credit(account, amount, loan_id=loan_id) for account, amount in sorted(credits.items())),
        ],
    )


@transaction.atomic
def loan_restructure(*, loan_id: int, term_months: int, capitalise: bool, reason: str, actor=None) -> LoanRestructure:
    """Replace the loan's remaining schedule with a new one over `term_months` from the business date.

    See `engine.restructure` for what moves. The reversal replay starts from
    the original schedule, so repayment_reverse refuses a restructured loan.
    """
    reason = text_required(reason, field="reason", max_length=LoanRestructure._meta.get_field("reason").max_length)
    if isinstance(term_months, bool) or not isinstance(term_months, int) or not 1 <= term_months <= MAX_TERM_MONTHS:
        raise DomainError(
            "invalid_term", f"must be a whole number of months from 1 to {MAX_TERM_MONTHS}", field="term_months"
        )
    today = business_date_for_write()
    line, loan = loan_lock(loan_id)
    if not loan.is_open:
        raise DomainError("loan_not_open", f"the loan is {loan.state}; only an open loan is restructured", field="loan")
    installments = installments_lock(loan)
    positions = positions_load(installments)
    terms = loan_terms(loan)
    try:
        result = engine.restructure(positions, terms, today, term_months=term_months, capitalise=capitalise)
    except ValueError as error:
        raise DomainError("invalid_schedule", str(error), field="term_months") from None
    principal_before = loan.principal_outstanding
    draft = _capitalisation_draft(loan_id=loan.pk, reference=f"restructure:{loan.number}", portions=result.capitalised)
    entry = entry_post(draft=draft, business_date=today) if draft else None
    positions_save(installments, positions, reason=f"restructured: {reason}")
    new_rows = bulk_create_with_history(
        [
            Installment(
                loan=loan,
                number=p.number,
                start_date=p.start_date,
                due_date=p.due_date,
                principal=p.principal,
                interest=p.interest,
                fee=p.fee,
                accrual_start=p.accrual_start,
                interest_settled=p.interest_settled,
            )
            for p in result.new
        ],
        Installment,
        default_change_reason=f"restructured: {reason}",
    )
    loan_sync(loan, line, [*positions, *result.new], today=today, reason=f"restructured: {reason}")
    by_component = {component: ZERO for component in (engine.INTEREST, engine.FEE, engine.PENALTY)}
    for portion in result.capitalised:
        by_component[portion.component] += portion.amount
    return LoanRestructure.objects.create(
        loan=loan,
        business_date=today,
        term_months=term_months,
        capitalised=capitalise,
        principal_before=principal_before,
        principal_after=loan.principal_outstanding,
        capitalised_interest=by_component[engine.INTEREST],
        capitalised_fee=by_component[engine.FEE],
        capitalised_penalty=by_component[engine.PENALTY],
        first_new_installment=new_rows[0].number,
        journal_entry=entry,
        reason=reason,
        actor=actor,
    )
