"""Portfolio figures (outstanding by DPD bucket, 30+/90+ DPD, NPL) as of a business date, and the report command."""

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.business_date import business_date_current
from lending.delinquency import BUCKETS
from lending.models import Installment, Loan
from lending.selectors import portfolio_figures
from lending.services.repayments import payoff_quote, repayment_post

pytestmark = pytest.mark.django_db

START = date(2031, 1, 15)
# Loans drawn on START fall due on the 15th; DPD on D is D − Feb 15.
DPD_31 = date(2031, 3, 18)  # START loans left unpaid reach M2
DPD_91 = date(2031, 5, 17)  # … and M4; the loan drawn on Feb 16 is then at DPD 62 (M3)
ZERO_RATE = Decimal("0.0000")


def pay_what_is_due(loan: Loan) -> None:
    """Pay every installment fallen due (due or overdue), penalty included: the loan is current afterwards."""
    open_rows = Installment.objects.filter(loan=loan, state__in=[Installment.State.DUE, Installment.State.OVERDUE])
    amount = sum((row.unpaid for row in open_rows), Decimal("0"))
    assert amount > 0
    repayment_post(loan_id=loan.pk, amount=amount)


def pay_off(loan: Loan) -> None:
    today = business_date_current()
    loan = Loan.objects.get(pk=loan.pk)
    repayment_post(loan_id=loan.pk, amount=payoff_quote(loan=loan, on_date=today, today=today).amount)


def principal(*loans: Loan) -> Decimal:
    return sum((Loan.objects.get(pk=loan.pk).principal_outstanding for loan in loans), Decimal("0.00"))


def by_bucket(figures) -> dict[str, tuple[int, Decimal]]:
    return {row.bucket: (row.loans, row.outstanding) for row in figures.buckets if row.loans}


def rate(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole).quantize(Decimal("0.0001"))


@dataclass
class Book:
    """Five loans on a script of payments.

    - payer: 10,000 from START, pays each installment the day after it falls due (stays M0).
    - cured: 12,000 from START, pays nothing until Mar 19 (M2 on Mar 18), then everything due and
      each installment after: the Apr 15 close moves it back to M0.
    - defaulter: 12,000 from START, never pays (M2 on Mar 18, M4 on May 17).
    - late: 8,000 drawn on Feb 16 (first due Mar 16), never pays (M1 on Mar 18, M3 on May 17).
    - paid_off: 6,000 from START, paid off on Jan 20.
    """

    advance_to: object
    payer: Loan
    cured: Loan
    defaulter: Loan
    paid_off: Loan
    make_late: object
    late: Loan | None = None
    done: set = field(default_factory=set)

    def events(self):
        return [
            (date(2031, 1, 20), lambda: pay_off(self.paid_off)),
            (date(2031, 2, 16), lambda: (pay_what_is_due(self.payer), self._draw_late())),
            (date(2031, 3, 16), lambda: pay_what_is_due(self.payer)),
            (date(2031, 3, 19), lambda: pay_what_is_due(self.cured)),
            (date(2031, 4, 16), lambda: (pay_what_is_due(self.payer), pay_what_is_due(self.cured))),
            (date(2031, 5, 16), lambda: (pay_what_is_due(self.payer), pay_what_is_due(self.cured))),
        ]

    def _draw_late(self):
        self.late = self.make_late()

    def run_until(self, day: date) -> None:
        """Open `day`, closing every day with something to close; the script's events before `day` happen."""
        for when, event in self.events():
            if when < day and when not in self.done:
                self.advance_to(when)
                event()
                self.done.add(when)
        self.advance_to(day)


@pytest.fixture
def book(make_borrower, make_line, make_loan, advance_to) -> Book:
    assert business_date_current() == START
    late_line = make_line(make_borrower())
    return Book(
        advance_to=advance_to,
        payer=make_loan(make_line(make_borrower()), Decimal("10000")),
        cured=make_loan(make_line(make_borrower()), Decimal("12000")),
        defaulter=make_loan(make_line(make_borrower()), Decimal("12000")),
        paid_off=make_loan(make_line(make_borrower()), Decimal("6000")),
        make_late=lambda: make_loan(late_line, Decimal("8000")),
    )


def test_an_empty_book_has_zero_figures(start_date):
    figures = portfolio_figures(as_of=START)

    assert figures.open_loans == 0
    assert figures.outstanding == Decimal("0.00")
    assert [row.bucket for row in figures.buckets] == BUCKETS
    assert all(row.loans == 0 and row.outstanding == 0 and row.share == ZERO_RATE for row in figures.buckets)
    assert (figures.dpd30_rate, figures.dpd90_rate, figures.npl_ratio) == (ZERO_RATE, ZERO_RATE, ZERO_RATE)


def test_a_loan_drawn_but_not_disbursed_is_not_in_the_book(line, make_loan):
    make_loan(line, disburse=False)

    assert portfolio_figures(as_of=START).open_loans == 0


def test_loans_fall_into_buckets_by_days_past_due_and_set_the_rates(book):
    book.run_until(DPD_91 + date.resolution)

    figures = portfolio_figures(as_of=DPD_91)

    total = principal(book.payer, book.cured, book.defaulter, book.late)
    assert by_bucket(figures) == {
        "M0": (2, principal(book.payer, book.cured)),
        "M3": (1, Decimal("8000.00")),
        "M4": (1, Decimal("12000.00")),
    }
    assert figures.open_loans == 4
    assert figures.outstanding == total
    assert figures.dpd30_rate == rate(Decimal("20000"), total)
    assert figures.dpd90_rate == rate(Decimal("12000"), total)
    assert figures.npl_ratio == figures.dpd90_rate
    assert {row.bucket: row.share for row in figures.buckets}["M4"] == figures.dpd90_rate


def test_figures_as_of_an_earlier_date_are_what_was_true_then(book):
    book.run_until(DPD_31 + date.resolution)
    then_principal = {name: principal(getattr(book, name)) for name in ("payer", "cured", "defaulter", "late")}
    book.run_until(DPD_91 + date.resolution)

    then = portfolio_figures(as_of=DPD_31)

    assert by_bucket(then) == {
        "M0": (1, then_principal["payer"]),
        "M1": (1, Decimal("8000.00")),
        "M2": (2, Decimal("24000.00")),
    }
    total_then = sum(then_principal.values())
    assert then.outstanding == total_then
    assert then.dpd30_rate == rate(Decimal("24000"), total_then)
    assert then.dpd90_rate == then.npl_ratio == ZERO_RATE
    # The loan cured since: M2 then, M0 now; and its principal then, not now.
    now = portfolio_figures(as_of=DPD_91)
    assert then_principal["cured"] == Decimal("12000.00") > principal(book.cured)
    assert by_bucket(now)["M0"] == (2, principal(book.payer, book.cured))
    assert now != then


def test_a_paid_off_loan_drops_out_of_the_book(book):
    book.run_until(date(2031, 1, 21))

    on_disbursement = portfolio_figures(as_of=START)
    after_payoff = portfolio_figures(as_of=date(2031, 1, 20))

    assert Loan.objects.get(pk=book.paid_off.pk).state == Loan.State.PAID_OFF
    assert (on_disbursement.open_loans, on_disbursement.outstanding) == (4, Decimal("40000.00"))
    assert (after_payoff.open_loans, after_payoff.outstanding) == (3, Decimal("34000.00"))


def test_the_figures_take_two_queries_however_big_the_book(book, django_assert_num_queries):
    book.run_until(DPD_31 + date.resolution)

    with django_assert_num_queries(2):
        portfolio_figures(as_of=DPD_31)


def test_the_report_prints_buckets_and_rates_for_the_last_closed_day(book, capsys):
    book.run_until(DPD_31 + date.resolution)

    call_command("portfolio_report")

    out = capsys.readouterr().out
    assert f"as of the close of {DPD_31}" in out
    assert "M2             2           24,000.00" in out
    assert "30+ DPD rate: " in out and "NPL ratio:    0.00 %" in out


def test_the_report_as_json_carries_money_and_rates_as_strings(book, capsys):
    book.run_until(DPD_31 + date.resolution)

    call_command("portfolio_report", "--json", "--date", "2031-01-20")

    result = json.loads(capsys.readouterr().out)
    assert result["as_of"] == "2031-01-20"
    assert result["open_loans"] == 3
    assert result["outstanding"] == "34000.00"
    assert result["buckets"][0] == {"bucket": "M0", "loans": 3, "outstanding": "34000.00", "share": "1.0000"}
    assert [row["bucket"] for row in result["buckets"]] == BUCKETS
    assert result["dpd30_rate"] == result["dpd90_rate"] == result["npl_ratio"] == "0.0000"


def test_the_report_refuses_a_date_not_yet_closed(start_date):
    with pytest.raises(CommandError, match="--date 2031-01-15 has not been closed"):
        call_command("portfolio_report", "--date", "2031-01-15")


def test_a_written_off_loan_drops_out_of_the_book(loan, advance_to):
    advance_to(date(2031, 8, 15))
    written_off = Loan.objects.get(pk=loan.pk)
    assert written_off.state == Loan.State.WRITTEN_OFF

    day_before = portfolio_figures(as_of=written_off.closed_on - date.resolution)
    on_the_day = portfolio_figures(as_of=written_off.closed_on)

    assert by_bucket(day_before) == {"M6": (1, Decimal("12000.00"))}
    assert day_before.npl_ratio == Decimal("1.0000")
    assert (on_the_day.open_loans, on_the_day.outstanding, on_the_day.npl_ratio) == (0, Decimal("0.00"), ZERO_RATE)
