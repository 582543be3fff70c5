"""The demo simulator runs applicants through the real services and closes; a second run does nothing."""

import json
from io import StringIO

from django.core.management import call_command

from core.models import CloseStepRun
from lending.models import Loan, Repayment
from underwriting.models import Application


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
