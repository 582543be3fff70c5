"""The demo portfolio: synthetic applicants whose latent risk drives both what they report and how they repay.

Each applicant has a latent risk z ~ N(0, 1). Their credit score, income,
cash flows, debts, other lenders and verification flags are drawn around
it, and so is their behaviour: a few default (they stop paying after a
couple of installments), some pay late and cure, the rest pay on the due
date; most who repay a loan draw again. Everyone goes through the real
services — onboarding, underwriting, drawdowns, repayments — and every day is closed by the real close of day,
so the book ends with genuine DPD buckets, write-offs and outcomes to
train on. Applications arrive over the first half of the period so that
most have a full performance window by the end.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal

import numpy as np
from django.db.models import F, Sum
from stdnum.cn import ric

from core.business_date import business_date_current, business_date_set
from core.close import day_close
from core.models import CloseStepRun
from core.progress import SilentProgress
from lending.models import CreditLine, Installment, Loan, Partner, Product
from lending.services.borrowers import borrower_onboard_person
from lending.services.loans import loan_drawdown
from lending.services.repayments import repayment_post
from underwriting.models import Application
from underwriting.services import DEMO_PRODUCT_CODE, application_submit

DEMO_PARTNER_CODE = "demo-wallet"
HUNDRED = Decimal("100")
REDRAW_SHARE = 0.7
MIN_REDRAW = Decimal("500")


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


@dataclass
class Behaviour:
    kind: str  # on_time | late | default
    stop_after: int = 0  # a defaulter pays this many installments, then nothing
    delays: dict[int, int] = field(default_factory=dict)  # installment number → days late


@dataclass
class SeedReport:
    borrowers: int = 0
    approved: int = 0
    declined: int = 0
    manual_review: int = 0
    loans: int = 0
    repayments: int = 0
    days_closed: int = 0
    start: date | None = None
    end: date | None = None
    model_version: int | None = None
    model_metrics: dict = field(default_factory=dict)


def demo_seeded() -> bool:
    return Application.objects.filter(partner__code=DEMO_PARTNER_CODE).exists()


class Simulator:
    def __init__(self, *, borrowers: int, months: int, seed: int, progress=None):
        self.rng = np.random.default_rng(seed)
        self.borrowers = borrowers
        self.days = max(30, round(months * 365 / 12))
        self.intake_days = max(1, self.days // 2)
        self.progress = progress
        self.report = SeedReport()
        self.used_ids: set[str] = set()
        self.pay_on: dict[date, set[int]] = defaultdict(set)
        self.behaviour: dict[int, Behaviour] = {}
        self.borrower_of: dict[int, tuple[int, float]] = {}  # loan → (line, latent risk)
        self.redraw_on: dict[date, list[tuple[int, float]]] = defaultdict(list)

    # --- applicants ---------------------------------------------------------

    def _national_id(self, born: date) -> str:
        while True:
            first_17 = f"110101{born:%Y%m%d}{int(self.rng.integers(0, 1000)):03d}"
            number = first_17 + ric.calc_check_digit(first_17 + "0")
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def _applicant(self, z: float, today: date) -> tuple[date, dict, Decimal | None]:
        rng = self.rng
        # A few out-of-range ages so the age rule has work to do.
        age = int(rng.integers(16, 64)) if rng.uniform() < 0.03 else int(rng.integers(20, 59))
        born = date(today.year - age, int(rng.integers(1, 13)), int(rng.integers(1, 29)))
        income = Decimal(int(math.exp(rng.normal(8.9 - 0.2 * z, 0.4)) / 100) * 100 or 100)
        obligations_share = min(max(0.15 + 0.1 * z + rng.normal(0, 0.08), 0.0), 0.9)
        obligations = (income * Decimal(str(round(obligations_share, 3)))).quantize(HUNDRED, rounding=ROUND_DOWN)
        data = {
            "monthly_income": str(income),
            "months_on_platform": int(min(max(math.exp(rng.normal(3 - 0.3 * z, 0.8)), 0), 240)),
            "monthly_obligations": str(obligations),
            "existing_debt": str(obligations * int(rng.integers(5, 20))),
            "other_lenders": int(min(rng.poisson(math.exp(0.2 + 0.5 * z)), 100)),
            "identity_verified": bool(rng.uniform() < 0.98),
            "device_verified": bool(rng.uniform() < min(max(0.85 - 0.1 * z, 0.05), 0.99)),
            "device_id": f"demo-device-{int(rng.integers(0, 10**9))}",
            "delinquent_elsewhere": bool(rng.uniform() < _sigmoid(-4.5 + 1.2 * z)),
        }
        if rng.uniform() > 0.05:
            data["credit_score"] = int(min(max(680 - 70 * z + rng.normal(0, 40), 350), 950))
        if rng.uniform() > 0.1:
            inflow = income * Decimal(str(round(rng.uniform(1.0, 1.5), 2)))
            spend = min(max(0.75 + 0.1 * z + rng.normal(0, 0.1), 0.3), 1.5)
            data["monthly_inflow"] = str(inflow.quantize(Decimal("0.01")))
            data["monthly_outflow"] = str((inflow * Decimal(str(round(spend, 3)))).quantize(Decimal("0.01")))
        requested = None
        if rng.uniform() < 0.4:
            requested = Decimal(int(rng.integers(10, 100))) * 500
        return born, data, requested

    def _behaviour(self, z: float) -> Behaviour:
        rng = self.rng
        if rng.uniform() < _sigmoid(-4.0 + 1.5 * z):
            return Behaviour("default", stop_after=int(rng.integers(0, 3)))
        if rng.uniform() < _sigmoid(-1.6 + 0.8 * z):
            return Behaviour("late", delays={n: int(rng.integers(1, 45)) for n in range(1, 13) if rng.uniform() < 0.35})
        return Behaviour("on_time")

    def _apply(self, partner: Partner, product: Product, serial: int, today: date) -> None:
        z = float(self.rng.normal())
        born, data, requested = self._applicant(z, today)
        borrower = borrower_onboard_person(
            partner=partner,
            name=f"Demo borrower {serial}",
            national_id=self._national_id(born),
            mobile=f"139{serial:08d}",
            monthly_income=Decimal(data["monthly_income"]),
            today=today,
        )
        application = application_submit(
            partner=partner,
            borrower=borrower,
            product=product,
            data=data,
            requested_amount=requested,
            consent_at=datetime.combine(today, time(2, 0), tzinfo=UTC),
            consent_scope="credit data query for a demo application",
        )
        self.report.borrowers += 1
        if application.state == Application.State.APPROVED:
            self.report.approved += 1
            self._draw(application.credit_line_id, application.credit_line.limit, z, today)
        elif application.state == Application.State.DECLINED:
            self.report.declined += 1
        else:
            self.report.manual_review += 1

    # --- drawdowns and repayments --------------------------------------------

    def _draw(self, line_id: int, limit: Decimal, z: float, today: date) -> None:
        share = Decimal(str(round(self.rng.uniform(0.3, 0.9), 2)))
        amount = max((limit * share / HUNDRED).to_integral_value(rounding=ROUND_DOWN) * HUNDRED, Decimal(500))
        term = int(self.rng.choice([3, 6, 12], p=[0.3, 0.4, 0.3]))
        loan = loan_drawdown(
            credit_line_id=line_id, amount=min(amount, limit), term_months=term, method="equal_installment",
            disburse=True,
        )  # fmt: skip
        self.report.loans += 1
        behaviour = self._behaviour(z)
        self.behaviour[loan.pk] = behaviour
        self.borrower_of[loan.pk] = (line_id, z)
        for number, due in loan.installments.order_by("number").values_list("number", "due_date"):
            if behaviour.kind == "default" and number > behaviour.stop_after:
                break
            self.pay_on[due + timedelta(days=behaviour.delays.get(number, 0))].add(loan.pk)

    def _pay(self, today: date) -> None:
        loan_ids = self.pay_on.pop(today, set())
        if not loan_ids:
            return
        owed = (
            Installment.objects.filter(
                loan_id__in=loan_ids,
                loan__state__in=[Loan.State.CURRENT, Loan.State.OVERDUE],
                due_date__lte=today,
                state__in=[Installment.State.SCHEDULED, Installment.State.DUE, Installment.State.OVERDUE],
            )
            .values("loan_id")
            .annotate(
                owed=Sum(
                    F("principal") - F("principal_paid") + F("interest") - F("interest_paid")
                    + F("fee") - F("fee_paid") + F("penalty") - F("penalty_paid")
                )
            )
        )  # fmt: skip
        paid = []
        for row in owed:
            amount = Decimal(row["owed"]).quantize(Decimal("0.01"))
            if amount > 0:
                repayment_post(loan_id=row["loan_id"], amount=amount, source_reference="demo")
                self.report.repayments += 1
                paid.append(row["loan_id"])
        # Most borrowers who repay a loan draw again on their line a few weeks later: a revolving book.
        for loan_id in Loan.objects.filter(pk__in=paid, state=Loan.State.PAID_OFF).values_list("pk", flat=True):
            if self.rng.uniform() < REDRAW_SHARE:
                self.redraw_on[today + timedelta(days=int(self.rng.integers(3, 45)))].append(self.borrower_of[loan_id])

    def _redraw(self, today: date) -> None:
        for line_id, z in self.redraw_on.pop(today, []):
            line = CreditLine.objects.get(pk=line_id)
            # A line lives a year: a borrower coming back after it expired cannot draw on it.
            valid = line.valid_from <= today <= line.valid_until
            if line.state == CreditLine.State.ACTIVE and valid and line.available >= MIN_REDRAW:
                self._draw(line_id, line.available, z, today)

    # --- the run --------------------------------------------------------------

    def run(self) -> SeedReport:
        partner, _ = Partner.objects.get_or_create(code=DEMO_PARTNER_CODE, defaults={"name": "Demo Wallet"})
        product = Product.objects.get(code=DEMO_PRODUCT_CODE)
        start = business_date_current()
        if not CloseStepRun.objects.exists():
            # A fresh book: start in the past so the simulated year ends about where it began.
            start = business_date_set(new_date=start - timedelta(days=self.days), reason="demo portfolio start")
        self.report.start = start
        arrivals = np.bincount(self.rng.integers(0, self.intake_days, self.borrowers), minlength=self.intake_days)
        serial = 0
        for offset in range(self.days):
            today = start + timedelta(days=offset)
            for _ in range(int(arrivals[offset]) if offset < self.intake_days else 0):
                serial += 1
                self._apply(partner, product, serial, today)
            self._pay(today)
            self._redraw(today)
            day_close(business_date=today, progress=SilentProgress())
            self.report.days_closed += 1
            if self.progress:
                self.progress(offset + 1, self.days)
        self.report.end = business_date_current()
        return self.report
