"""Applications through the partner API: submitted and decided at once, scoped to the partner, announced by webhook."""

import itertools
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from stdnum.cn import ric

from lending.models import CreditLine
from lending.services.borrowers import borrower_onboard_person
from partners import webhooks
from partners.models import IdempotencyRecord, WebhookEvent
from partners.services import webhook_endpoint_set
from underwriting.models import Application
from underwriting.services import application_review

URL = "/api/v1/applications"
CONSENT = {"at": datetime(2031, 1, 15, 1, 0, tzinfo=UTC).isoformat(), "scope": "credit bureau query"}
GOOD = {
    "credit_score": 760, "monthly_income": "12000.00", "monthly_inflow": "15000.00", "monthly_outflow": "9000.00",
    "months_on_platform": 48, "existing_debt": "5000.00", "monthly_obligations": "1000.00", "other_lenders": 0,
    "identity_verified": True, "device_verified": True, "device_id": "dev-good",
}  # fmt: skip
REVIEW = {
    "credit_score": 620, "monthly_income": "6000.00", "months_on_platform": 6, "monthly_obligations": "1200.00",
    "existing_debt": "20000.00", "other_lenders": 3, "identity_verified": True, "device_verified": False,
}  # fmt: skip
START = date(2031, 1, 15)  # the business date the partner fixtures set
_serials = itertools.count(700)


def national_id(serial: int) -> str:
    first_17 = f"11010119900101{serial % 1000:03d}"
    return first_17 + ric.calc_check_digit(first_17 + "0")


@pytest.fixture
def applicant():
    """A new borrower of the world's partner, without a line (the world's own borrower already has one)."""

    def make(world):
        serial = next(_serials)
        return borrower_onboard_person(
            partner=world.partner, name="Wang Wu", national_id=national_id(serial), mobile=f"1371234{serial:04d}",
            monthly_income=None, today=START,
        )  # fmt: skip

    return make


def body(borrower, data=GOOD, **extra):
    return {"borrower_id": borrower.pk, "consent": CONSENT, "data": data, **extra}


def test_a_sound_application_is_approved_with_its_line(acme, applicant, post):
    borrower = applicant(acme)
    response = post(acme.client, URL, body(borrower, requested_amount="30000.00"))
    assert response.status_code == 201, response.json()
    got = response.json()
    assert got["state"] == "approved" and got["decision"] == "approve" and got["borrower_id"] == borrower.pk
    line = CreditLine.objects.get(pk=got["credit_line_id"])
    assert got["limit"] == f"{line.limit:.2f}" and got["daily_rate"] == f"{line.daily_rate:.8f}"
    assert got["requested_amount"] == "30000.00" and got["decided_on"] == str(START)
    assert "data" not in got and "Wang" not in response.content.decode()


def test_a_decline_carries_reasons(acme, applicant, post):
    response = post(acme.client, URL, body(applicant(acme), {**GOOD, "identity_verified": False}))
    got = response.json()
    assert response.status_code == 201 and got["state"] == "declined" and got["limit"] is None
    assert got["reasons"] and all(set(r) == {"code", "message"} and r["code"] and r["message"] for r in got["reasons"])


def test_a_risky_application_goes_to_review(acme, applicant, post):
    got = post(acme.client, URL, body(applicant(acme), REVIEW)).json()
    assert got["state"] == "manual_review" and got["decision"] == "manual_review" and got["credit_line_id"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"data": {**GOOD, "monthly_income": "-5"}}, "data.monthly_income"),
        ({"data": {**GOOD, "identity_verified": None}}, "data.identity_verified"),
        ({"data": {**GOOD, "shoe_size": 42}}, "data.shoe_size"),
        ({"requested_amount": "-5.00"}, "requested_amount"),
        ({"consent": {"scope": "x"}}, "consent.at"),
        ({"borrower_id": "abc"}, "borrower_id"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(acme, applicant, post, change, field):
    response = post(acme.client, URL, {**body(applicant(acme)), **change})
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]
    assert not Application.objects.exists() and not IdempotencyRecord.objects.exists()


def test_a_replay_returns_the_same_application_once(acme, applicant, post):
    request = body(applicant(acme))
    first = post(acme.client, URL, request, key="app-1")
    again = post(acme.client, URL, request, key="app-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and Application.objects.count() == 1
    assert post(acme.client, URL, request, key="").status_code == 400


def test_another_partners_application_and_borrower_are_not_found(acme, globex, applicant, post):
    theirs = post(globex.client, URL, body(applicant(globex))).json()
    missing = acme.client.get(f"{URL}/999999")
    assert missing.status_code == 404
    assert acme.client.get(f"{URL}/{theirs['id']}").content == missing.content
    submit = post(acme.client, URL, body(applicant(globex)))
    assert submit.status_code == 404 and submit.content == missing.content
    assert Application.objects.count() == 1
    assert acme.client.get(URL).json()["count"] == 0


def test_the_list_filters_by_state_decision_and_date(acme, applicant, post):
    approved = post(acme.client, URL, body(applicant(acme))).json()
    declined = post(acme.client, URL, body(applicant(acme), {**GOOD, "identity_verified": False})).json()

    def ids(**query):
        response = acme.client.get(URL, query)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [declined["id"], approved["id"]]
    assert ids(state="approved") == [approved["id"]]
    assert ids(decision="decline") == [declined["id"]]
    assert ids(submitted_from=str(START)) == ids(submitted_to=str(START)) == [declined["id"], approved["id"]]
    assert ids(submitted_from=str(START + timedelta(days=1))) == []
    assert acme.client.get(URL, {"state": "bogus"}).status_code == 400
    assert acme.client.get(f"{URL}/{approved['id']}").json() == approved


def test_a_decision_is_announced_by_webhook_after_commit(
    acme, globex, applicant, post, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(webhooks, "http_client", lambda: httpx.Client(transport=httpx.MockTransport(
        lambda request: httpx.Response(200, text="ok")
    )))  # fmt: skip
    webhook_endpoint_set(partner=acme.partner, url="https://acme.example/hooks")
    with django_capture_on_commit_callbacks(execute=True):
        declined = post(acme.client, URL, body(applicant(acme), {**GOOD, "identity_verified": False})).json()
        post(acme.client, URL, body(applicant(acme), REVIEW))
        post(globex.client, URL, body(applicant(globex)))
    events = list(WebhookEvent.objects.filter(type=WebhookEvent.Type.APPLICATION_DECIDED))
    assert len(events) == 1 and events[0].partner_id == acme.partner.pk
    payload = events[0].payload
    assert payload["application_id"] == declined["id"] and payload["state"] == "declined"
    assert payload["reasons"] == declined["reasons"]


def test_a_decision_on_review_is_announced_too(
    acme, applicant, post, monkeypatch, django_capture_on_commit_callbacks, django_user_model
):
    monkeypatch.setattr(webhooks, "http_client", lambda: httpx.Client(transport=httpx.MockTransport(
        lambda request: httpx.Response(200, text="ok")
    )))  # fmt: skip
    webhook_endpoint_set(partner=acme.partner, url="https://acme.example/hooks")
    referred = post(acme.client, URL, body(applicant(acme), REVIEW)).json()
    reviewer = django_user_model.objects.create_user(username="risk-officer")
    with django_capture_on_commit_callbacks(execute=True):
        application_review(application_id=referred["id"], reviewer=reviewer, verdict="decline", notes="thin file")
    event = WebhookEvent.objects.get(type=WebhookEvent.Type.APPLICATION_DECIDED)
    assert event.payload["application_id"] == referred["id"] and event.payload["state"] == "declined"
    assert acme.client.get(f"{URL}/{referred['id']}").json()["state"] == "declined"
