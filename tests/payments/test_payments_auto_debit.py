"""Auto-debit: the close sends debits for what is due across the borrower's accounts in order; retries stay
within the plan and the due amount; a payment through another route cancels pending debits."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.business_date import business_date_set
from core.close import day_close
from lending.models import Installment, Loan, Repayment
from lending.services.repayments import repayment_post
from payments import selectors
from payments.gateways import gateway_get
from payments.gateways.base import CONFIRMED, FAILED, Outcome
from payments.models import Debit
from payments.plan import DebitSchedule, debit_amount, round_allowed
from payments.services.debits import _debit_create, debit_round_run

CARD_2 = "6217001234567890122"


@pytest.fixture
def due_loan(world):
    """A disbursed loan on its first due date, before the close."""
    loan = Loan.objects.get(pk=world.draw().json()["id"])
    first = loan.installments.order_by("number").first()
    business_date_set(new_date=first.due_date, reason="to the first due date")
    return loan


@pytest.fixture
def scripted(monkeypatch):
    """The simulated gateway answering debits per account number's last digits, in order of the given list."""
    answers: dict[str, list[str]] = {}
    calls: list = []

    def instruct_debit(instruction):
        calls.append(instruction)
        queue = answers.get(instruction.account.number[-4:], [])
        status = queue.pop(0) if queue else CONFIRMED
        return Outcome(status, f"SIM-{instruction.reference}", reason="insufficient funds" if status == FAILED else "")

    monkeypatch.setattr(gateway_get("simulated"), "instruct_debit", instruct_debit)
    return answers, calls


def _close(day: date) -> None:
    day_close(business_date=day)


def test_the_close_debits_what_falls_due_and_posts_it_through_the_waterfall(world, due_loan):
    world.card(debit_priority=1)
    first = due_loan.installments.order_by("number").first()
    _close(first.due_date)
    debit = Debit.objects.get()
    first.refresh_from_db()
    assert debit.state == Debit.State.SUCCEEDED
    assert debit.amount == first.principal + first.interest + first.fee
    assert debit.repayment.channel == Repayment.Channel.AUTO_DEBIT
    assert debit.repayment.amount == debit.amount
    assert first.state == Installment.State.PAID
    assert selectors.loan_amount_due(loan_id=due_loan.pk) == 0


def test_a_failed_account_is_followed_by_the_next_in_order(world, due_loan, scripted):
    answers, calls = scripted
    world.card(debit_priority=1)
    world.card(number=CARD_2, debit_priority=2)
    answers["0128"] = [FAILED]
    _close(due_loan.installments.order_by("number").first().due_date)
    assert [call.account.number[-4:] for call in calls] == ["0128", "0122"]
    states = list(Debit.objects.order_by("pk").values_list("state", "round"))
    assert states == [("failed", 1), ("succeeded", 1)]


def test_retries_follow_the_schedule_and_never_ask_for_more_than_is_due(world, due_loan, scripted, settings):
    settings.PAYMENTS_DEBIT_ROUNDS_PER_DAY = 2
    settings.PAYMENTS_DEBIT_RETRY_DAYS = 1
    answers, calls = scripted
    world.card(debit_priority=1)
    answers["0128"] = [FAILED] * 100
    due_date = due_loan.installments.order_by("number").first().due_date
    _close(due_date)  # round 1 of the due date's close
    today = due_date + timedelta(days=1)
    assert debit_round_run(today=today) == {"failed": 1}
    assert debit_round_run(today=today) == {"failed": 1}
    assert debit_round_run(today=today) == {"skipped": 1}  # two rounds a day
    for day in (due_date + timedelta(days=2), due_date + timedelta(days=3)):
        assert debit_round_run(today=day) == {}  # past the retry window: not even visited
    due = selectors.loan_amount_due(loan_id=due_loan.pk)
    assert len(calls) == 3
    assert all(call.amount <= due for call in calls)
    assert not Repayment.objects.filter(channel=Repayment.Channel.AUTO_DEBIT).exists()


def test_a_payment_through_another_route_cancels_pending_debits(world, due_loan, django_capture_on_commit_callbacks):
    account = world.card(debit_priority=1)
    first = due_loan.installments.order_by("number").first()
    business_date_set(new_date=first.due_date, reason="same day")
    Installment.objects.filter(pk=first.pk).update(state=Installment.State.DUE)
    pending = _debit_create(loan=due_loan, account_id=account.pk, today=first.due_date, round_number=1)
    assert pending.amount == first.unpaid
    with django_capture_on_commit_callbacks(execute=True):
        repayment_post(loan_id=due_loan.pk, amount=first.unpaid, source_reference="counter")
    pending.refresh_from_db()
    assert pending.state == Debit.State.CANCELLED
    assert debit_round_run(today=first.due_date) == {}  # nothing due: no loan in the round
    assert Debit.objects.count() == 1


def test_a_partner_channel_debit_is_posted_when_the_partner_reports_it(world, due_loan, settings):
    settings.PAYMENTS_DEBIT_GATEWAY = "partner_channel"
    world.card(debit_priority=1)
    _close(due_loan.installments.order_by("number").first().due_date)
    debit = Debit.objects.get()
    assert debit.state == Debit.State.SENT
    listed = world.client.get(f"/api/v1/loans/{due_loan.pk}/debits").json()
    assert [row["reference"] for row in listed] == [debit.reference]
    body = {"status": "confirmed", "amount": f"{debit.amount:.2f}", "gateway_reference": "PARTNER-1"}
    assert world.post(f"/api/v1/loans/{due_loan.pk}/debits/{debit.pk}/report", body).json()["outcome"] == "applied"
    assert world.post(f"/api/v1/loans/{due_loan.pk}/debits/{debit.pk}/report", body).json()["outcome"] == "duplicate"
    assert Repayment.objects.get(channel=Repayment.Channel.AUTO_DEBIT).amount == debit.amount


# --- the plan, exhaustively ------------------------------------------------------------------------

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)


@given(due=amounts, in_flight=st.decimals(min_value=Decimal("0"), max_value=Decimal("200000"), places=2))
def test_an_attempt_never_asks_for_more_than_is_due_less_what_is_in_flight(due, in_flight):
    asked = debit_amount(due=due, in_flight=in_flight)
    assert Decimal("0") <= asked <= due
    assert asked + min(in_flight, due) == due or in_flight >= due and asked == 0


@given(
    due=amounts,
    steps=st.lists(st.tuples(st.sampled_from(["debit_ok", "debit_fail", "paid_elsewhere"]), st.integers(1, 100))),
)
def test_debits_and_other_payments_together_never_collect_more_than_was_due(due, steps):
    remaining, collected = due, Decimal("0")
    for kind, share in steps:
        if kind == "paid_elsewhere":
            remaining -= (remaining * share / 100).quantize(Decimal("0.01"))
            continue
        asked = debit_amount(due=remaining, in_flight=Decimal("0"))
        assert asked == remaining
        if kind == "debit_ok" and asked:
            collected += asked
            remaining -= asked
    assert remaining >= 0
    assert collected <= due


@given(rounds=st.integers(1, 6), retry_days=st.integers(0, 5), offset=st.integers(-3, 10))
def test_rounds_run_only_inside_the_window_and_the_daily_count(rounds, retry_days, offset):
    schedule = DebitSchedule(rounds_per_day=rounds, retry_days=retry_days)
    oldest_due = date(2031, 5, 10)
    today = oldest_due + timedelta(days=offset)
    allowed = [round_allowed(schedule=schedule, rounds_done_today=done, oldest_due=oldest_due, today=today)
               for done in range(rounds + 2)]  # fmt: skip
    expected = 0 <= offset <= retry_days
    assert allowed.count(True) == (rounds if expected else 0)
