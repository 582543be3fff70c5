"""The close of day over whole loans: payments on the due date, DPD buckets and NPL, line freezes,
write-off, penalty to the fen, catch-up over many days, re-runs, the day's work set, the command."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count

import core.close
import lending.close
from core.business_date import business_date_current
from core.close import day_close, days_close_until
from core.errors import DomainError
from core.money import round_fen
from core.progress import SilentProgress
from ledger.chart import (
    FEE_RECEIVABLE,
    INTEREST_RECEIVABLE,
    PENALTY_RECEIVABLE,
    PRINCIPAL_RECEIVABLE,
    WRITE_OFF_EXPENSE,
)
from ledger.models import DaySeal, JournalEntry, JournalLine
from ledger.selectors import account_balances
from ledger.verification import ledger_problems
from lending.delinquency import days_past_due
from lending.models import CreditLine, CreditLineChange, Installment, Loan, LoanBucketChange
from lending.services.credit_lines import credit_line_freeze, credit_line_unfreeze
from lending.services.loans import loan_drawdown
from lending.services.repayments import repayment_post

pytestmark = pytest.mark.django_db

FIRST_DUE = date(2031, 2, 15)
PENALTY_MULTIPLIER = Decimal("1.5")
RECEIVABLES = (PRINCIPAL_RECEIVABLE, INTEREST_RECEIVABLE, FEE_RECEIVABLE, PENALTY_RECEIVABLE)


def installment(loan, number=1) -> Installment:
    return Installment.objects.get(loan=loan, number=number)


def reloaded(obj):
    return type(obj).objects.get(pk=obj.pk)


def arrears(loan) -> Decimal:
    """Everything fallen due and unpaid on the loan's installments."""
    rows = Installment.objects.filter(loan=loan, state__in=[Installment.State.DUE, Installment.State.OVERDUE])
    return sum(
        (
            row.principal + row.interest + row.fee + row.penalty
            - row.principal_paid - row.interest_paid - row.fee_paid - row.penalty_paid
            for row in rows
        ),
        Decimal("0"),
    )  # fmt: skip


def pay_arrears(loan) -> None:
    repayment_post(loan_id=loan.pk, amount=arrears(loan))


def bucket_moves(loan) -> list[tuple]:
    return list(
        LoanBucketChange.objects.filter(loan=loan)
        .order_by("business_date", "id")
        .values_list("business_date", "from_bucket", "to_bucket", "dpd")
    )


# --- paying on the due date ------------------------------------------------------------------


def test_a_payment_on_the_due_date_before_its_close_keeps_the_installment_from_ever_going_overdue(
    loan, skip_to, close_through
):
    skip_to(FIRST_DUE)
    first = installment(loan)
    repayment_post(loan_id=loan.pk, amount=first.principal + first.interest)

    close_through(FIRST_DUE + timedelta(days=5))

    first = installment(loan)
    loan = reloaded(loan)
    assert (first.state, first.penalty) == (Installment.State.PAID, Decimal("0"))
    assert (loan.state, loan.overdue_since, loan.dpd_bucket) == (Loan.State.CURRENT, None, "M0")
    assert PENALTY_RECEIVABLE not in account_balances(loan_id=loan.pk)
    assert not LoanBucketChange.objects.filter(loan=loan).exists()


# --- DPD, buckets and NPL --------------------------------------------------------------------


def test_dpd_buckets_and_npl_move_at_their_boundaries_and_each_move_is_recorded_once(loan, advance_to, close_through):
    seen = {}
    for dpd in (30, 31, 90, 91):
        day = FIRST_DUE + timedelta(days=dpd)
        advance_to(day)
        close_through(day)
        current = reloaded(loan)
        seen[dpd] = (
            days_past_due(overdue_since=current.overdue_since, on_date=day),
            current.dpd_bucket,
            current.is_npl,
        )

    assert seen == {30: (30, "M1", False), 31: (31, "M2", False), 90: (90, "M3", False), 91: (91, "M4", True)}
    assert reloaded(loan).overdue_since == FIRST_DUE
    assert bucket_moves(loan) == [
        (FIRST_DUE + timedelta(days=1), "M0", "M1", 1),
        (FIRST_DUE + timedelta(days=31), "M1", "M2", 31),
        (FIRST_DUE + timedelta(days=61), "M2", "M3", 61),
        (FIRST_DUE + timedelta(days=91), "M3", "M4", 91),
    ]


def test_paying_the_arrears_moves_the_loan_back_to_m0_and_the_next_close_keeps_it_there(loan, skip_to, close_through):
    skip_to(FIRST_DUE)
    close_through(FIRST_DUE + timedelta(days=3))
    pay_arrears(loan)

    close_through(FIRST_DUE + timedelta(days=4))

    loan = reloaded(loan)
    assert (loan.state, loan.overdue_since, loan.dpd_bucket, loan.is_npl) == (Loan.State.CURRENT, None, "M0", False)
    assert bucket_moves(loan) == [
        (FIRST_DUE + timedelta(days=1), "M0", "M1", 1),
        (FIRST_DUE + timedelta(days=4), "M1", "M0", 0),
    ]


# --- line freezes ----------------------------------------------------------------------------


def test_the_first_overdue_close_freezes_the_line_for_delinquency_with_a_reason(loan, line, skip_to, close_through):
    skip_to(FIRST_DUE)
    close_through(FIRST_DUE)
    assert reloaded(line).state == CreditLine.State.ACTIVE

    close_through(FIRST_DUE + timedelta(days=1))

    line = reloaded(line)
    assert (line.state, line.frozen_for_delinquency) == (CreditLine.State.FROZEN, True)
    change = CreditLineChange.objects.filter(credit_line=line).latest("id")
    assert (change.field, change.old_value, change.new_value) == ("state", "active", "frozen")
    assert change.reason == "a loan is past due"
    assert change.business_date == FIRST_DUE + timedelta(days=1)


def test_a_drawdown_on_a_line_frozen_for_delinquency_is_refused(loan, line, skip_to, close_through):
    skip_to(FIRST_DUE)
    close_through(FIRST_DUE + timedelta(days=1))
    loans = Loan.objects.count()

    with pytest.raises(DomainError):
        loan_drawdown(credit_line_id=line.pk, amount=Decimal("1000"), term_months=3, method="equal_installment")

    assert Loan.objects.count() == loans


def test_paying_the_arrears_and_closing_the_next_day_unfreezes_the_line(loan, line, skip_to, close_through):
    skip_to(FIRST_DUE)
    close_through(FIRST_DUE + timedelta(days=1))
    pay_arrears(loan)
    assert reloaded(line).state == CreditLine.State.FROZEN  # until the close

    close_through(FIRST_DUE + timedelta(days=2))

    line = reloaded(line)
    assert (line.state, line.frozen_for_delinquency) == (CreditLine.State.ACTIVE, False)
    change = CreditLineChange.objects.filter(credit_line=line).latest("id")
    assert (change.old_value, change.new_value, change.reason) == ("frozen", "active", "all loans cured")


def test_a_line_frozen_by_staff_stays_frozen_when_its_loan_is_cured(loan, line, skip_to, close_through):
    credit_line_freeze(credit_line_id=line.pk, reason="suspected fraud")
    skip_to(FIRST_DUE)
    close_through(FIRST_DUE + timedelta(days=1))
    pay_arrears(loan)

    close_through(FIRST_DUE + timedelta(days=3))

    line = reloaded(line)
    assert (line.state, line.frozen_for_delinquency) == (CreditLine.State.FROZEN, False)
    assert not CreditLineChange.objects.filter(credit_line=line, reason="all loans cured").exists()


def test_a_line_staff_unfroze_and_froze_again_after_a_delinquency_freeze_stays_frozen(
    loan, line, skip_to, close_through
):
    skip_to(FIRST_DUE)
    close_through(FIRST_DUE + timedelta(days=1))  # frozen by the close
    credit_line_unfreeze(credit_line_id=line.pk, reason="manager override")
    pay_arrears(loan)
    close_through(FIRST_DUE + timedelta(days=2))
    credit_line_freeze(credit_line_id=line.pk, reason="suspected fraud")

    close_through(FIRST_DUE + timedelta(days=3))

    assert reloaded(line).state == CreditLine.State.FROZEN


# --- write-off -------------------------------------------------------------------------------


def test_a_loan_reaching_180_days_past_due_is_written_off_against_all_it_owed(line, make_loan, skip_to, close_through):
    # Three installments keep 180 closed days quick; all have fallen due by the write-off.
    loan = make_loan(line, Decimal("6000"), term_months=3)
    write_off_day = FIRST_DUE + timedelta(days=180)
    skip_to(FIRST_DUE)
    close_through(write_off_day - timedelta(days=1))
    assert reloaded(loan).state == Loan.State.OVERDUE  # 179 days past due

    close_through(write_off_day)

    loan, line = reloaded(loan), reloaded(line)
    assert (loan.state, loan.closed_on) == (Loan.State.WRITTEN_OFF, write_off_day)
    assert set(loan.installments.values_list("state", flat=True)) == {Installment.State.WRITTEN_OFF}
    entry = JournalEntry.objects.filter(kind="write_off", lines__loan_id=loan.pk).distinct().get()
    assert entry.business_date == write_off_day
    lines = list(entry.lines.select_related("account"))
    debits = [(row.account.code, row.debit) for row in lines if row.debit]
    credits = {row.account.code: row.credit for row in lines if row.credit}
    # What the loan's receivables held just before the write-off entry.
    before = {}
    for row in JournalLine.objects.filter(loan_id=loan.pk).exclude(entry=entry).select_related("account"):
        before[row.account.code] = before.get(row.account.code, Decimal("0")) + row.debit - row.credit
    owed = {code: balance for code, balance in before.items() if code in RECEIVABLES and balance}
    assert credits == owed
    assert debits == [(WRITE_OFF_EXPENSE, sum(owed.values()))]
    # (Rounded to the fen: SQLite sums decimals as floating point.)
    after = {code: round_fen(balance) for code, balance in account_balances(loan_id=loan.pk).items()}
    assert {code: after.get(code, Decimal("0")) for code in RECEIVABLES} == dict.fromkeys(RECEIVABLES, Decimal("0"))
    assert after[WRITE_OFF_EXPENSE] == sum(owed.values())
    assert (loan.principal_outstanding, loan.interest_outstanding, loan.penalty_outstanding) == (0, 0, 0)
    assert (line.state, line.used) == (CreditLine.State.CLOSED, Decimal("0"))
    assert list(ledger_problems()) == []


# --- penalty ---------------------------------------------------------------------------------


def test_penalty_over_a_45_day_delinquency_matches_the_formula_to_the_fen(
    make_borrower, make_line, make_loan, advance_to, close_through
):
    # Interest first: only the last installment carries principal, so it is the only one accruing penalty.
    principal, daily_rate = Decimal("12300"), Decimal("0.00037")  # 6.8265 a day: not a whole fen
    line = make_line(make_borrower(), daily_rate=daily_rate)
    loan = make_loan(line, principal, term_months=3, method="interest_first")
    for number in (1, 2):
        advance_to(installment(loan, number).due_date)
        repayment_post(loan_id=loan.pk, amount=installment(loan, number).interest)
    last = installment(loan, 3)
    assert last.principal == principal

    advance_to(last.due_date + timedelta(days=45))
    close_through(last.due_date + timedelta(days=45))

    expected = round_fen(principal * daily_rate * PENALTY_MULTIPLIER * 45)
    assert expected == Decimal("307.19")
    assert installment(loan, 3).penalty == expected
    assert account_balances(loan_id=loan.pk)[PENALTY_RECEIVABLE] == expected
    assert reloaded(loan).penalty_outstanding == expected


# --- catch-up --------------------------------------------------------------------------------


class Rollback(Exception):
    pass


@pytest.fixture
def small_book(make_borrower, make_line, make_loan, skip_to):
    """Four loans falling due on FIRST_DUE: paid, short-paid, unpaid, and one disbursed later."""

    def build() -> list[Loan]:
        loans = [
            make_loan(make_line(make_borrower()), Decimal(amount), term_months=term, method=method)
            for amount, term, method in [
                ("12000", 12, "equal_installment"),
                ("9000", 6, "equal_principal"),
                ("5000", 3, "interest_first"),
            ]
        ]
        skip_to(FIRST_DUE - timedelta(days=3))
        loans.append(make_loan(make_line(make_borrower()), Decimal("6000"), term_months=3))
        skip_to(FIRST_DUE)
        first = installment(loans[0])
        repayment_post(loan_id=loans[0].pk, amount=first.principal + first.interest)
        repayment_post(loan_id=loans[1].pk, amount=Decimal("500"))
        return loans

    return build


def book_state(loans, loan_snapshot) -> dict:
    return {
        "loans": [loan_snapshot(loan) for loan in loans],
        "ledger": account_balances(),
        "entries_per_day": dict(
            JournalEntry.objects.values_list("business_date").annotate(n=Count("id")).order_by("business_date")
        ),
        "sealed_per_day": dict(DaySeal.objects.values_list("business_date", "entry_count")),
        "bucket_moves": sorted(
            LoanBucketChange.objects.values_list("business_date", "from_bucket", "to_bucket", "dpd")
        ),
        "open_date": business_date_current(),
    }


def test_catching_up_a_month_in_one_call_ends_like_closing_it_day_by_day(small_book, loan_snapshot):
    until = FIRST_DUE + timedelta(days=31)  # past the second due date
    with pytest.raises(Rollback):
        with transaction.atomic():
            loans = small_book()
            while (day := business_date_current()) <= until:
                day_close(business_date=day)
            day_by_day = book_state(loans, loan_snapshot)
            raise Rollback

    loans = small_book()
    closed = days_close_until(until=until)

    assert closed == [FIRST_DUE + timedelta(days=n) for n in range(32)]
    assert book_state(loans, loan_snapshot) == day_by_day


# --- re-runs and the day's work set ----------------------------------------------------------


def all_rows() -> dict:
    return {
        "installments": list(Installment.objects.order_by("pk").values()),
        "loans": list(Loan.objects.order_by("pk").values()),
        "lines": list(CreditLine.objects.order_by("pk").values()),
        "entries": JournalEntry.objects.count(),
        "bucket_moves": LoanBucketChange.objects.count(),
        "line_changes": CreditLineChange.objects.count(),
    }


def test_running_the_accrual_again_for_a_closed_day_posts_nothing_and_changes_no_row(small_book, close_through):
    small_book()
    day = FIRST_DUE + timedelta(days=1)  # installments go overdue, penalty accrues, buckets move
    close_through(day)
    read = list(Loan.objects.filter(closed_through=day).values_list("pk", flat=True))
    assert len(read) == 2
    before = all_rows()

    detail = lending.close.accrue(business_date=day, progress=SilentProgress())
    lending.close.accrue_chunk(business_date=day, ids=read)  # a chunk redelivered by the broker

    assert detail == {"loans": 0, "entries": 0, "overdue": 0}
    assert all_rows() == before


def test_a_loan_with_nothing_due_or_overdue_is_not_read_by_the_close(
    make_borrower, make_line, make_loan, skip_to, close_through, monkeypatch
):
    falling_due = make_loan(make_line(make_borrower()))
    skip_to(FIRST_DUE - timedelta(days=10))
    quiet = make_loan(make_line(make_borrower()))  # first due on March 5
    skip_to(FIRST_DUE)
    read, accrue_chunk = [], lending.close.accrue_chunk

    def recording(*, business_date, ids):
        read.extend(ids)
        return accrue_chunk(business_date=business_date, ids=ids)

    monkeypatch.setitem(core.close._chunk_handlers, "lending.accrue", recording)

    assert lending.close.loans_with_events(FIRST_DUE) == [falling_due.pk]
    close_through(FIRST_DUE + timedelta(days=1))

    assert quiet.pk not in read and falling_due.pk in read
    assert reloaded(quiet).closed_through is None
    assert reloaded(falling_due).closed_through == FIRST_DUE + timedelta(days=1)


# --- the command -----------------------------------------------------------------------------


def test_the_close_day_command_prints_each_step_and_the_chunk_counts(small_book, capsys, monkeypatch):
    small_book()
    monkeypatch.setattr(lending.close, "CHUNK", 1)

    call_command("close_day")

    err = capsys.readouterr().err
    assert f"{FIRST_DUE} lending.accrue …" in err
    assert f"{FIRST_DUE} lending.accrue done — loans=2, entries=" in err
    assert "    lending.accrue: 1/2 chunks" in err
    assert "    lending.accrue: 2/2 chunks" in err
    for step in ("lending.freeze_lines", "lending.write_off", "lending.close_residues", "ledger.seal_day"):
        assert f"{FIRST_DUE} {step} done" in err


def test_the_close_day_command_reports_the_closed_days_as_json(small_book, capsys):
    small_book()
    until = FIRST_DUE + timedelta(days=2)

    call_command("close_day", "--until", until.isoformat(), "--json")

    out = capsys.readouterr().out
    assert json.loads(out) == {
        "closed": [(FIRST_DUE + timedelta(days=n)).isoformat() for n in range(3)],
        "open": (until + timedelta(days=1)).isoformat(),
    }
