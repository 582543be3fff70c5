"""Bad input of every kind answers 4xx in the one error shape, and writes nothing."""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from lending.models import Borrower, Loan, Repayment
from partners.services import api_key_revoke

BAD_AMOUNTS = [
    "-100", "0", "0.00", "100.001", "NaN", "Infinity", "-Infinity", "1e5", "1E5", "", " 100", "abc", "9" * 40,
    "99999999999999999.99", 100.5, 1e300, True, None, [], {}, "１００",
]  # fmt: skip


@pytest.fixture
def nothing_written():
    def counts():
        return (Loan.objects.count(), Repayment.objects.count(), Borrower.objects.count())

    before = counts()
    yield
    assert counts() == before


def _assert_error_shape(response, status):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["code"], str) and isinstance(error["message"], str) and isinstance(error["fields"], dict)
    return error


@pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=repr)
def test_a_bad_repayment_amount_is_refused_with_400_naming_the_field(acme, post, nothing_written, amount):
    response = post(acme.client, f"/api/v1/loans/{acme.loan.pk}/repayments", {"amount": amount})

    assert list(_assert_error_shape(response, 400)["fields"]) == ["amount"]


@pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=repr)
def test_a_bad_drawdown_amount_is_refused_with_400(acme, post, nothing_written, amount):
    body = {"amount": amount, "term_months": 3, "method": "equal_installment"}
    response = post(acme.client, f"/api/v1/credit-lines/{acme.line.pk}/drawdowns", body)

    assert "amount" in _assert_error_shape(response, 400)["fields"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"method": "balloon"}, "method"),
        ({"method": None}, "method"),
        ({"term_months": "twelve"}, "term_months"),
        ({"term_months": -3}, "term_months"),
        ({"term_months": 10**30}, "term_months"),
        ({"credit_line_id": "abc"}, "credit_line_id"),
        ({"credit_line_id": 2**70}, "credit_line_id"),
        ({"daily_rate": "0.0004"}, "credit_line_id"),
        ({"credit_line_id": None}, "credit_line_id"),
    ],
)
def test_bad_quote_fields_are_refused_with_400(acme, change, field):
    body = {"amount": "1000", "term_months": 3, "method": "equal_installment", "credit_line_id": acme.line.pk, **change}
    response = acme.client.post("/api/v1/quotes", body, format="json")

    assert field in _assert_error_shape(response, 400)["fields"]


@pytest.mark.parametrize("rate", ["0.00040000001", "1.5", "-0.0004", 0.0004, "NaN"])
def test_a_bad_daily_rate_is_refused_with_400(acme, rate):
    body = {"amount": "1000", "term_months": 3, "method": "equal_installment", "daily_rate": rate}

    assert "daily_rate" in _assert_error_shape(acme.client.post("/api/v1/quotes", body, format="json"), 400)["fields"]


def test_a_term_the_product_does_not_offer_is_refused_by_the_rule(acme, post, nothing_written):
    body = {"amount": "1000", "term_months": 7, "method": "equal_installment"}
    response = post(acme.client, f"/api/v1/credit-lines/{acme.line.pk}/drawdowns", body)

    assert _assert_error_shape(response, 422)["code"] == "term_not_offered"


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "robot", "name": "x", "mobile": "13900000000"},
        {"kind": "person", "name": "x", "mobile": "13900000000"},
        {"kind": "person", "name": "", "mobile": "13900000000", "national_id": "110101199001010011"},
        {"kind": "person", "name": "x" * 121, "mobile": "13900000000", "national_id": "110101199001010011"},
        {"kind": "person", "name": "a\x00b", "mobile": "13900000000", "national_id": "110101199001010011"},
        {"kind": "business", "name": "x", "mobile": "1", "credit_code": "1", "legal_representative": "y",
         "business_type": "z", "business_start_date": "2020-02-30"},
    ],
)  # fmt: skip
def test_bad_borrower_fields_are_refused_with_400(acme, post, nothing_written, body):
    _assert_error_shape(post(acme.client, "/api/v1/borrowers", body), 400)


@pytest.mark.parametrize(
    "national_id", ["110101199001010012", "11010119900101001", "990101199001010011", "110101203001010017"]
)
def test_an_invalid_national_id_is_refused_by_the_identity_rule(acme, post, nothing_written, national_id):
    body = {"kind": "person", "name": "x", "mobile": "13900000000", "national_id": national_id}

    assert "national_id" in _assert_error_shape(post(acme.client, "/api/v1/borrowers", body), 422)["fields"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/loans/abc", "/api/v1/loans/0", "/api/v1/loans/-1", "/api/v1/loans/1.5",
        "/api/v1/loans/99999999999999999999999", "/api/v1/borrowers/%00", "/api/v1/nowhere",
        "/api/v1/credit-lines/1e3",
    ],
)  # fmt: skip
def test_malformed_ids_and_unknown_paths_answer_404_in_the_error_shape(acme, path):
    assert _assert_error_shape(acme.client.get(path), 404)["code"] == "not_found"


@pytest.mark.parametrize(
    "query",
    [{"state": "lost"}, {"requested_from": "2031-13-01"}, {"requested_to": "0001-01-01"}, {"limit": "x"},
     {"borrower_id": "-1"}],
)  # fmt: skip
def test_bad_list_filters_are_refused_with_400(acme, query):
    response = acme.client.get("/api/v1/loans", query)

    if "limit" in query:  # DRF ignores a malformed limit and uses the default page size
        assert response.status_code == 200
    else:
        _assert_error_shape(response, 400)


@pytest.mark.parametrize("day", ["tomorrow", "2031-02-30", "9999-12-31", "0001-01-01"])
def test_a_bad_payoff_date_is_refused(acme, day):
    response = acme.client.get(f"/api/v1/loans/{acme.loan.pk}/payoff-quote", {"date": day})

    assert response.status_code in (400, 422)
    _assert_error_shape(response, response.status_code)


def test_malformed_json_is_refused_with_400(acme, nothing_written):
    response = acme.client.post(
        f"/api/v1/loans/{acme.loan.pk}/repayments", b'{"amount": "1', content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )  # fmt: skip

    assert _assert_error_shape(response, 400)["code"] == "parse_error"


def test_a_body_that_is_not_json_is_refused_with_415(acme, nothing_written):
    response = acme.client.post(
        f"/api/v1/loans/{acme.loan.pk}/repayments", b"amount=1", content_type="text/plain", HTTP_IDEMPOTENCY_KEY="k"
    )

    _assert_error_shape(response, 415)


def test_an_oversized_body_is_refused_with_413(acme, post, nothing_written):
    body = {"amount": "100", "source_reference": "x" * 70_000}

    _assert_error_shape(post(acme.client, f"/api/v1/loans/{acme.loan.pk}/repayments", body), 413)


def test_a_non_json_array_body_is_refused_with_400(acme, post, nothing_written):
    _assert_error_shape(post(acme.client, f"/api/v1/loans/{acme.loan.pk}/repayments", [1, 2]), 400)


def test_a_method_the_endpoint_does_not_have_is_405(acme):
    _assert_error_shape(acme.client.delete(f"/api/v1/loans/{acme.loan.pk}"), 405)


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer wrong", "Basic dXNlcjpwYXNz", "Token abc", "Bearer " + "x" * 300]
)
def test_requests_without_a_valid_key_are_401(acme, client, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get(f"/api/v1/loans/{acme.loan.pk}", **extra)

    _assert_error_shape(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_key_is_401_at_once_though_it_was_just_used(acme):
    assert acme.client.get(f"/api/v1/loans/{acme.loan.pk}").status_code == 200
    api_key_revoke(api_key_id=acme.partner.api_keys.get().pk, reason="leaked")

    _assert_error_shape(acme.client.get(f"/api/v1/loans/{acme.loan.pk}"), 401)


def test_an_inactive_partners_key_is_401(acme):
    acme.partner.is_active = False
    acme.partner.save()

    _assert_error_shape(acme.client.get(f"/api/v1/loans/{acme.loan.pk}"), 401)


def test_a_staff_session_does_not_reach_the_api(acme, client):
    User.objects.create_superuser("admin", "admin@example.com", "pw-for-test-only")
    client.login(username="admin", password="pw-for-test-only")

    assert client.get("/admin/").status_code == 200
    _assert_error_shape(client.get(f"/api/v1/loans/{acme.loan.pk}"), 401)
    response = client.post(
        f"/api/v1/loans/{acme.loan.pk}/repayments", {"amount": "10"}, content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )  # fmt: skip
    _assert_error_shape(response, 401)
    assert not Repayment.objects.exists()


@pytest.mark.parametrize("path", ["/api/v1/loans/abc/repayments", "/api/v1/credit-lines/0/drawdowns", "/api/v1/x"])
def test_a_post_to_a_path_that_names_nothing_is_404_not_a_csrf_page(acme, post, path):
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {acme.key}")

    _assert_error_shape(post(client, path, {"amount": "1"}), 404)


@pytest.mark.parametrize("path", ["/api/v1/quotes", "repayments"])
def test_deeply_nested_json_is_refused_with_400(acme, nothing_written, path):
    path = f"/api/v1/loans/{acme.loan.pk}/repayments" if path == "repayments" else path
    body = b"[" * 30_000 + b"]" * 30_000

    response = acme.client.post(path, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")

    _assert_error_shape(response, 400)


@pytest.mark.parametrize("offset", ["99999999999999999999999", "-5", "x"])
def test_an_absurd_page_offset_answers_a_page_not_an_error(acme, offset):
    response = acme.client.get("/api/v1/loans", {"offset": offset})

    assert response.status_code == 200
