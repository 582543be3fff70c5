"""Claims officers' and risk staff's screens, CSV exports, the bordereau and premium statement commands."""

import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from insurance.models import (
    Coverage,
    CoverageMovement,
    Funder,
    FundingShare,
    InsuranceClaim,
    Insurer,
    LossAllocation,
    Policy,
)
from insurance.selectors import policy_figures
from lending.services.repayments import repayment_post

pytestmark = pytest.mark.django_db

FIRST_DUE = date(2031, 2, 15)
TRIGGER_DAY = FIRST_DUE + timedelta(days=90)


@pytest.fixture
def claim(make_policy, make_loan, advance_to, close_through) -> InsuranceClaim:
    make_policy(stop_loss_rate=Decimal("1"), interest_coverage=Decimal("0"))
    make_loan()
    advance_to(TRIGGER_DAY)
    close_through(TRIGGER_DAY)
    return InsuranceClaim.objects.get()


def _transition(admin_client, claim, name, **data):
    url = reverse("admin:insurance_insuranceclaim_transition", args=[claim.pk, name])
    return admin_client.post(url, data, follow=True)


def test_claims_officers_request_documents_approve_and_record_the_payout_with_buttons(admin_client, claim):
    page = admin_client.get(reverse("admin:insurance_insuranceclaim_change", args=[claim.pk])).content.decode()
    assert all(label in page for label in ["Approve", "Reject", "Request documents"])
    assert "Record payout" not in page

    _transition(admin_client, claim, "request_documents", reason="court filing")
    _transition(admin_client, claim, "approve")
    _transition(admin_client, claim, "pay", reference="PA-0001")

    claim.refresh_from_db()
    assert (claim.state, claim.documents_requested) == (InsuranceClaim.State.PAID, "court filing")
    assert [h.history_user for h in claim.history.order_by("history_id")][1:] == [claim.actor] * 3


def test_a_rejection_without_a_reason_is_refused_with_a_message(admin_client, claim):
    response = _transition(admin_client, claim, "reject", reason="")

    assert "needs a reason" in response.content.decode()
    claim.refresh_from_db()
    assert claim.state == InsuranceClaim.State.FILED


def test_the_loss_sharing_screen_shows_each_policy_and_funder_and_exports_csv(admin_client, claim):
    url = reverse("admin:insurance_policy_loss_sharing")
    html = admin_client.get(url).content.decode()
    assert claim.coverage.policy.number in html and "Partner bank" in html

    rows = list(csv.DictReader(io.StringIO(admin_client.get(url, {"export": "policies"}).content.decode())))
    assert rows[0]["policy"] == claim.coverage.policy.number
    assert (rows[0]["claims_filed"], rows[0]["insured_principal"]) == ("1", "12000.00")
    funders = list(csv.DictReader(io.StringIO(admin_client.get(url, {"export": "funders"}).content.decode())))
    assert {row["funder"]: row["exposure"] for row in funders} == {"Partner bank": "8400.00", "Platform": "3600.00"}


def test_policy_figures_count_premiums_claims_and_the_loss_ratio(policy, make_loan, advance_to, close_through):
    loan = make_loan()
    advance_to(FIRST_DUE)
    first = loan.installments.get(number=1)
    repayment_post(loan_id=loan.pk, amount=first.principal + first.interest + first.fee)
    close_through(FIRST_DUE)

    (row,) = policy_figures(on_date=FIRST_DUE)
    assert (row["premiums_earned"], row["claims_filed"], row["loss_ratio"]) == (first.fee, 0, Decimal("0.0000"))
    assert row["stop_loss_cap"] == Decimal("600.00")  # 5 % of 12,000 insured


def test_the_bordereau_lists_covered_loans_with_status_and_the_month_s_premium(claim, tmp_path):
    out = io.StringIO()
    call_command("export_bordereau", insurer="pingan", month="2031-05", stdout=out)

    (row,) = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["loan"] == claim.coverage.loan.number
    assert (row["claim_state"], row["claimed_amount"], row["dpd_bucket"]) == ("filed", str(claim.claimed_amount), "M3")

    target = tmp_path / "b.csv"
    call_command("export_bordereau", insurer="pingan", month="2031-05", output=str(target), stderr=io.StringIO())
    assert target.read_text().splitlines()[0].startswith("loan,policy,")


def test_the_admin_downloads_an_insurer_s_bordereau_and_refuses_a_bad_month(admin_client, claim):
    url = reverse("admin:insurance_insurer_bordereau", args=[Insurer.objects.get().pk])

    assert admin_client.get(url, {"month": "2031-05"})["Content-Type"].startswith("text/csv")
    refused = admin_client.get(url, {"month": "2031-13"})
    assert refused.status_code == 400 and "month" in refused.content.decode()


def test_the_premium_statement_totals_the_month_s_premiums(policy, make_loan, advance_to, close_through):
    loan = make_loan()
    advance_to(FIRST_DUE)
    first = loan.installments.get(number=1)
    repayment_post(loan_id=loan.pk, amount=first.principal + first.interest + first.fee)
    close_through(FIRST_DUE)
    out = io.StringIO()

    call_command("premium_statement", insurer="pingan", month="2031-02", json=True, stdout=out)

    statement = json.loads(out.getvalue())
    assert statement["total"] == str(first.fee)
    assert statement["policies"] == [{"policy": policy.number, "loans": 1, "premium": str(first.fee)}]


@pytest.mark.parametrize(
    ("options", "message"),
    [({"insurer": "nobody", "month": "2031-05"}, "no insurer"), ({"insurer": "pingan", "month": "May"}, "YYYY-MM")],
)
def test_export_commands_refuse_bad_input_cleanly(insurer, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("export_bordereau", **options, stdout=io.StringIO())


MODELS = [Insurer, Policy, Coverage, InsuranceClaim, Funder, FundingShare, LossAllocation, CoverageMovement]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_insurance_changelist_renders(admin_client, policy, make_loan, model):
    make_loan()
    opts = model._meta
    assert admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")).status_code == 200


def test_a_policy_moves_with_its_buttons_and_records_the_reason(admin_client, policy):
    page = admin_client.get(reverse("admin:insurance_policy_change", args=[policy.pk])).content.decode()
    assert "Suspend" in page and "Activate" not in page

    url = reverse("admin:insurance_policy_transition", args=[policy.pk, "suspend"])
    admin_client.post(url, {"reason": "insurer audit"})

    policy.refresh_from_db()
    assert policy.state == Policy.State.SUSPENDED
    assert policy.history.first().history_change_reason == "insurer audit"
    assert admin_client.get(reverse("admin:insurance_coverage_changelist")).status_code == 200
