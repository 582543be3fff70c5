"""Transition buttons: shown only when they apply and the role may use them; each one runs the service."""

from decimal import Decimal

from django.urls import reverse

from insurance.models import InsuranceClaim
from lending.models import CreditLine, CreditLineChange
from underwriting.models import Application
from underwriting.selectors import rule_settings_get


def transition_url(app_model: str, pk: int, name: str) -> str:
    return reverse(f"admin:{app_model}_transition", args=[pk, name])


def buttons(response) -> set[str]:
    return {button["name"] for button in response.context.get("transition_buttons", [])}


def test_a_risk_analyst_freezes_a_line_through_the_service_and_the_buttons_follow_the_state(client, role_user, line):
    change = reverse("admin:lending_creditline_change", args=[line.pk])
    client.force_login(role_user("auditors"))
    assert buttons(client.get(change)) == set()
    freeze = transition_url("lending_creditline", line.pk, "freeze")
    assert client.post(freeze, {"reason": "fraud alert"}).status_code == 403
    client.force_login(role_user("risk analysts"))
    assert buttons(client.get(change)) == {"freeze", "close"}
    client.post(transition_url("lending_creditline", line.pk, "freeze"), {"reason": "fraud alert"})
    line.refresh_from_db()
    assert line.state == CreditLine.State.FROZEN
    # The service's own record and history, with the actor and reason.
    assert CreditLineChange.objects.filter(credit_line=line, new_value="frozen", reason="fraud alert").exists()
    assert line.history.first().history_change_reason == "fraud alert"
    assert buttons(client.get(change)) == {"unfreeze", "close"}


def test_a_transition_that_needs_a_reason_changes_nothing_without_one(client, role_user, line):
    client.force_login(role_user("risk analysts"))
    response = client.post(transition_url("lending_creditline", line.pk, "freeze"), {"reason": ""}, follow=True)
    assert b"needs a reason" in response.content
    line.refresh_from_db()
    assert line.state == CreditLine.State.ACTIVE


def test_a_claims_officer_approves_a_filed_claim_through_the_service(client, role_user, book):
    claim = InsuranceClaim.objects.get(coverage__loan=book["loan"])
    change = reverse("admin:insurance_insuranceclaim_change", args=[claim.pk])
    client.force_login(book["collector"])
    assert client.get(change).status_code == 200 and buttons(client.get(change)) == set()
    client.force_login(role_user("claims officers"))
    assert {"approve", "reject", "request_documents"} <= buttons(client.get(change))
    assert "pay" not in buttons(client.get(change))
    client.post(transition_url("insurance_insuranceclaim", claim.pk, "approve"), {"reason": "documents complete"})
    claim.refresh_from_db()
    assert claim.state == InsuranceClaim.State.APPROVED and claim.approved_amount > 0
    assert buttons(client.get(change)) == {"pay"}


def test_an_underwriter_withdraws_an_application_and_the_button_goes(client, role_user, in_review):
    application = in_review()
    change = reverse("admin:underwriting_application_change", args=[application.pk])
    client.force_login(role_user("underwriters"))
    page = client.get(change)
    assert buttons(page) == {"withdraw"} and b"review-form" in page.content
    client.post(transition_url("underwriting_application", application.pk, "withdraw"), {"reason": "asked by phone"})
    application.refresh_from_db()
    assert application.state == Application.State.WITHDRAWN
    assert application.history.first().history_change_reason == "asked by phone"
    page = client.get(change)
    assert buttons(page) == set() and b"review-form" not in page.content


def test_the_second_four_eyes_approval_needs_a_senior_underwriter(client, role_user, in_review):
    settings = rule_settings_get()
    settings.four_eyes_limit = Decimal("1000")
    settings.save()
    application = in_review()
    change = reverse("admin:underwriting_application_change", args=[application.pk])
    review = reverse("admin:underwriting_application_review", args=[application.pk])
    client.force_login(role_user("underwriters", username="first"))
    client.post(review, {"verdict": "approve", "notes": "payslips seen", "limit": "3000"})
    client.force_login(role_user("underwriters", username="second"))
    page = client.get(change)
    assert b"awaits-second-approval" in page.content and b'value="approve"' not in page.content
    refused = client.post(review, {"verdict": "approve", "notes": "agree", "limit": "3000"}, follow=True)
    assert b"senior underwriter" in refused.content
    application.refresh_from_db()
    assert application.state == Application.State.MANUAL_REVIEW
    client.force_login(role_user("senior underwriters"))
    assert b'value="approve"' in client.get(change).content
    client.post(review, {"verdict": "approve", "notes": "agree", "limit": "3000"})
    application.refresh_from_db()
    assert application.state == Application.State.APPROVED and application.credit_line.limit == Decimal("3000")


def test_the_review_queue_lists_applications_in_review_oldest_first(client, role_user, in_review):
    waiting = [in_review(), in_review()]
    client.force_login(role_user("underwriters"))
    response = client.get(reverse("admin:underwriting_application_review_queue"), follow=True)
    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == set(waiting)
    assert client.get(reverse("admin:underwriting_application_review_queue")).status_code == 302
    client.force_login(role_user("collectors"))
    assert client.get(reverse("admin:underwriting_application_review_queue"), follow=True).status_code == 403


def test_a_collector_gets_the_workbench_forms_and_an_auditor_does_not(client, role_user, book):
    case = book["loan"].credit_line.borrower.collection_cases.get()
    change = reverse("admin:collections_collectioncase_change", args=[case.pk])
    client.force_login(book["collector"])
    assert client.get(change).context["workbench"] is True
    client.force_login(role_user("auditors"))
    assert client.get(change).context["workbench"] is False
    log = reverse("admin:collections_collectioncase_log_attempt", args=[case.pk])
    assert client.post(log, {"channel": "call", "outcome": "no_answer", "party": "debtor"}).status_code == 403
