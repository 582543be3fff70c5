"""Partner isolation: another partner's ids answer 404 exactly like ids that do not exist, and change nothing."""

import pytest

from lending.models import Borrower, Loan, Repayment

MISSING = 9_999_999


def _paths(world) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", f"/api/v1/borrowers/{world.borrower.pk}", None),
        ("get", f"/api/v1/credit-lines/{world.line.pk}", None),
        ("get", f"/api/v1/loans/{world.loan.pk}", None),
        ("get", f"/api/v1/loans/{world.loan.pk}/schedule", None),
        ("get", f"/api/v1/loans/{world.loan.pk}/payoff-quote", None),
        (
            "post",
            f"/api/v1/credit-lines/{world.line.pk}/drawdowns",
            {"amount": "1000", "term_months": 3, "method": "equal_installment"},
        ),
        ("post", f"/api/v1/loans/{world.loan.pk}/repayments", {"amount": "100.00"}),
        (
            "post",
            "/api/v1/quotes",
            {"amount": "1000", "term_months": 3, "method": "equal_installment", "credit_line_id": world.line.pk},
        ),
    ]


def _missing(path: str, world) -> str:
    for pk in (world.borrower.pk, world.line.pk, world.loan.pk):
        path = path.replace(f"/{pk}", f"/{MISSING}")
    return path


def _send(client, method, path, body, post):
    return client.get(path) if method == "get" else post(client, path, body)


@pytest.mark.parametrize("index", range(8))
def test_another_partners_object_answers_exactly_like_a_missing_one(acme, globex, post, index):
    method, path, body = _paths(acme)[index]
    if body and "credit_line_id" in body:
        missing_body = {**body, "credit_line_id": MISSING}
    else:
        missing_body = body
    counts = (Loan.objects.count(), Repayment.objects.count(), Borrower.objects.count())

    foreign = _send(globex.client, method, path, body, post)
    missing = _send(globex.client, method, _missing(path, acme), missing_body, post)
    own = _send(acme.client, method, path, body, post)

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json() == {"error": {"code": "not_found", "message": "not found", "fields": {}}}
    assert own.status_code in (200, 201)
    expected_new = {"drawdowns": (1, 0), "repayments": (0, 1)}
    new_loans, new_repayments = next((v for k, v in expected_new.items() if path.endswith(k)), (0, 0))
    assert (Loan.objects.count(), Repayment.objects.count(), Borrower.objects.count()) == (
        counts[0] + new_loans,
        counts[1] + new_repayments,
        counts[2],
    )


@pytest.mark.parametrize(
    ("path", "attribute"),
    [("/api/v1/borrowers", "borrower"), ("/api/v1/credit-lines", "line"), ("/api/v1/loans", "loan")],
)
def test_lists_show_only_the_partners_own_objects(acme, globex, path, attribute):
    body = globex.client.get(path).json()

    assert [row["id"] for row in body["results"]] == [getattr(globex, attribute).pk]
    assert getattr(acme, attribute).pk not in [row["id"] for row in body["results"]]


def test_filtering_by_another_partners_ids_finds_nothing(acme, globex):
    loans = globex.client.get("/api/v1/loans", {"borrower_id": acme.borrower.pk}).json()
    lines = globex.client.get("/api/v1/credit-lines", {"borrower_id": acme.borrower.pk}).json()

    assert loans["count"] == lines["count"] == 0


def test_an_idempotency_key_of_one_partner_is_independent_of_anothers(acme, globex, post):
    body = {"amount": "100.00"}
    first = post(acme.client, f"/api/v1/loans/{acme.loan.pk}/repayments", body, key="shared")
    second = post(globex.client, f"/api/v1/loans/{globex.loan.pk}/repayments", body, key="shared")

    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "false"
    assert first.json()["loan_id"] == acme.loan.pk and second.json()["loan_id"] == globex.loan.pk
