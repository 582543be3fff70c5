"""The partner API's endpoints end to end: masked borrowers, quotes with APR, drawdowns, repayments, reads."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from stdnum.cn import ric

from lending.models import Borrower, Loan, Repayment
from lending.quotes import quote_build
from lending.schedules import RepaymentMethod
from partners.models import PartnerApiSettings


def test_a_person_is_onboarded_and_answered_with_masked_personal_data(acme, post):
    first_17 = "11010119900101007"
    national_id = first_17 + ric.calc_check_digit(first_17 + "0")
    body = {"kind": "person", "name": "李小龙", "national_id": national_id, "mobile": "13900001111"}
    response = post(acme.client, "/api/v1/borrowers", body)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "李**"
    assert "*" in body["national_id_masked"] and "*" in body["mobile_masked"]
    assert "13900001111" not in response.content.decode() and national_id not in response.content.decode()
    assert Borrower.objects.get(pk=body["id"]).partner == acme.partner


def test_a_business_needs_its_own_fields(acme, post):
    response = post(acme.client, "/api/v1/borrowers", {"kind": "business", "name": "小店", "mobile": "13900001112"})

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {
        "credit_code",
        "legal_representative",
        "business_type",
        "business_start_date",
    }


def test_a_quote_on_a_line_has_the_schedule_totals_and_apr_of_the_engine(acme, post):
    response = acme.client.post(
        "/api/v1/quotes",
        {"amount": "12000.00", "term_months": 12, "method": "equal_installment", "credit_line_id": acme.line.pk},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    expected = quote_build(
        principal=Decimal("12000"),
        daily_rate=Decimal("0.0004"),
        method=RepaymentMethod.EQUAL_INSTALLMENT,
        term_months=12,
        start_date=date(2031, 1, 15),
    )
    assert len(body["schedule"]) == 12
    assert body["totals"]["interest"] == str(expected.totals.interest)
    assert body["nominal_apr"] == str(expected.apr.nominal_annual_rate)
    assert body["effective_apr"] == str(expected.apr.effective_annual_rate)
    assert all(isinstance(line["principal"], str) for line in body["schedule"])
    assert Loan.objects.count() == 1  # the fixture's loan only: a quote writes nothing


def test_a_quote_at_a_rate_is_refused_outside_the_products_range(acme):
    body = {"amount": "5000", "term_months": 6, "method": "equal_principal", "daily_rate": "0.009"}
    response = acme.client.post("/api/v1/quotes", body, format="json")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "rate_out_of_range"
    assert "daily_rate" in response.json()["error"]["fields"]


def test_a_drawdown_creates_a_disbursed_loan_with_its_schedule(acme, post):
    response = post(
        acme.client,
        f"/api/v1/credit-lines/{acme.line.pk}/drawdowns",
        {"amount": "3000", "term_months": 3, "method": "equal_principal"},
    )

    assert response.status_code == 201, response.json()
    loan = response.json()
    assert loan["state"] == "current" and loan["principal"] == "3000.00"
    schedule = acme.client.get(f"/api/v1/loans/{loan['id']}/schedule").json()
    assert [row["number"] for row in schedule["installments"]] == [1, 2, 3]
    assert sum(Decimal(row["principal"]) for row in schedule["installments"]) == Decimal("3000.00")
    line = acme.client.get(f"/api/v1/credit-lines/{acme.line.pk}").json()
    assert line["used"] == "15000.00" and line["available"] == "35000.00"


def test_a_drawdown_beyond_the_limit_is_refused_with_the_rule(acme, post):
    response = post(
        acme.client,
        f"/api/v1/credit-lines/{acme.line.pk}/drawdowns",
        {"amount": "40000", "term_months": 3, "method": "equal_principal"},
    )

    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "exceeds_available_limit",
        "message": "amount: exceeds the available limit 38000.00",
        "fields": {"amount": "exceeds the available limit 38000.00"},
    }


def test_a_repayment_is_allocated_and_the_payoff_quote_follows(acme, post):
    before = Decimal(acme.client.get(f"/api/v1/loans/{acme.loan.pk}/payoff-quote").json()["amount"])
    response = post(acme.client, f"/api/v1/loans/{acme.loan.pk}/repayments", {"amount": "2000.00"})

    assert response.status_code == 201, response.json()
    assert Repayment.objects.get(pk=response.json()["id"]).amount == Decimal("2000.00")
    after = Decimal(acme.client.get(f"/api/v1/loans/{acme.loan.pk}/payoff-quote").json()["amount"])
    assert after == before - Decimal("2000.00")


def test_a_payoff_quote_for_a_later_date_includes_the_interest_meanwhile(acme):
    today = acme.client.get(f"/api/v1/loans/{acme.loan.pk}/payoff-quote").json()
    later = acme.client.get(f"/api/v1/loans/{acme.loan.pk}/payoff-quote", {"date": "2031-02-10"}).json()

    assert today["date"] == "2031-01-15" and later["date"] == "2031-02-10"
    assert Decimal(later["amount"]) > Decimal(today["amount"])


@pytest.mark.parametrize("day", ["2031-01-14", "2033-01-01"])
def test_a_payoff_quote_outside_today_to_a_year_ahead_is_refused(acme, day):
    response = acme.client.get(f"/api/v1/loans/{acme.loan.pk}/payoff-quote", {"date": day})

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["date"]


def test_loans_are_listed_by_state_and_date_with_pagination(acme, post):
    for _ in range(3):
        post(
            acme.client,
            f"/api/v1/credit-lines/{acme.line.pk}/drawdowns",
            {"amount": "1000", "term_months": 3, "method": "equal_principal"},
        )

    page = acme.client.get("/api/v1/loans", {"state": "current", "limit": 2}).json()
    none_paid = acme.client.get("/api/v1/loans", {"state": "paid_off"}).json()
    later = acme.client.get("/api/v1/loans", {"requested_from": "2031-01-16"}).json()

    assert page["count"] == 4 and len(page["results"]) == 2 and page["next"]
    assert none_paid["count"] == 0 and later["count"] == 0


def test_a_loan_read_takes_a_fixed_number_of_queries(acme):
    with CaptureQueriesContext(connection) as queries:
        response = acme.client.get(f"/api/v1/loans/{acme.loan.pk}")

    assert response.status_code == 200
    # key look-up (with partner and settings), last-used stamp, loan with its line
    assert len(queries) <= 3


def test_the_partner_rate_limit_answers_429_with_retry_after(acme):
    PartnerApiSettings.objects.create(partner=acme.partner, requests_per_minute=3)
    acme.partner.refresh_from_db()

    statuses = [acme.client.get(f"/api/v1/loans/{acme.loan.pk}").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    limited = acme.client.get(f"/api/v1/loans/{acme.loan.pk}")
    assert limited.json()["error"]["code"] == "throttled"
    assert 1 <= int(limited["Retry-After"]) <= 60


def test_the_rate_limit_of_one_partner_does_not_touch_another(acme, globex):
    PartnerApiSettings.objects.create(partner=acme.partner, requests_per_minute=1)
    acme.client.get("/api/v1/loans")

    assert acme.client.get("/api/v1/loans").status_code == 429
    assert globex.client.get("/api/v1/loans").status_code == 200


def test_the_schema_and_the_swagger_ui_are_served_without_a_cdn(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    docs = client.get("/api/v1/docs/")

    assert schema.status_code == 200 and "/api/v1/loans/{id}/repayments" in schema.json()["paths"]
    assert docs.status_code == 200
    html = docs.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(url.startswith("/static/drf_spectacular_sidecar/") for url in assets), assets


def test_a_payoff_quote_for_a_paid_off_loan_is_a_409_conflict(acme, post):
    amount = acme.client.get(f"/api/v1/loans/{acme.loan.pk}/payoff-quote").json()["amount"]
    post(acme.client, f"/api/v1/loans/{acme.loan.pk}/repayments", {"amount": amount})

    response = acme.client.get(f"/api/v1/loans/{acme.loan.pk}/payoff-quote")

    assert acme.client.get(f"/api/v1/loans/{acme.loan.pk}").json()["state"] == "paid_off"
    assert response.status_code == 409 and response.json()["error"]["code"] == "loan_not_open"
