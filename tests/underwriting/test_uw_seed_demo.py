"""The demo simulator runs applicants through the real services and closes; a second run does nothing."""

import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO

from django.core.management import call_command

from core.models import CloseStepRun
from lending.models import Loan, Repayment
from lending.services.credit_lines import credit_line_open
from underwriting.models import Application
from underwriting.simulator import Simulator


def test_seed_demo_builds_a_book_once(db):
    out = StringIO()
    call_command(
        "seed_demo", "--borrowers", "40", "--months", "2", "--seed", "3", "--json", stdout=out, stderr=StringIO()
    )
    result = json.loads(out.getvalue())
    assert result["seeded"] and result["borrowers"] == 40 and result["days_closed"] == 61
    assert Application.objects.count() == 40
    assert result["approved"] == Application.objects.filter(state="approved").count() > 0
    assert Loan.objects.count() == result["loans"] and Repayment.objects.count() == result["repayments"] > 0
    assert CloseStepRun.objects.filter(step="ledger.seal_day").count() == 61
    again = StringIO()
    call_command("seed_demo", "--json", stdout=again, stderr=StringIO())
    assert json.loads(again.getvalue()) == {"seeded": False, "reason": "already seeded"}
    assert Application.objects.count() == 40


def test_a_borrower_does_not_redraw_on_a_line_that_expired(borrower, product, start_date):
    # Found by the 24-month soak: a borrower due to come back after the line's year was over crashed the run.
    line = credit_line_open(
        borrower=borrower, product=product, limit=Decimal("20000"), daily_rate=Decimal("0.0004"), reason="test"
    )
    simulator = Simulator(borrowers=1, months=1, seed=1)
    after_expiry = line.valid_until + timedelta(days=1)
    simulator.redraw_on[after_expiry].append((line.pk, 0.0))
    simulator.redraw_on[line.valid_until].append((line.pk, 0.0))
    simulator._redraw(after_expiry)
    assert not Loan.objects.filter(credit_line=line).exists()
    simulator._redraw(line.valid_until)
    assert Loan.objects.filter(credit_line=line).count() == 1
