"""The Idempotency-Key contract: one effect, replays marked, mismatches 422, in flight 409, expiry, races."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from lending.models import Loan, Repayment
from partners.idempotency import request_fingerprint
from partners.models import IdempotencyRecord

DRAWDOWN = {"amount": "1000", "term_months": 3, "method": "equal_installment"}


def _drawdowns(world):
    return f"/api/v1/credit-lines/{world.line.pk}/drawdowns"


def test_a_replay_returns_the_stored_response_marked_and_draws_once(acme, post):
    first = post(acme.client, _drawdowns(acme), DRAWDOWN, key="k1")
    second = post(acme.client, _drawdowns(acme), DRAWDOWN, key="k1")

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert (first["Idempotent-Replayed"], second["Idempotent-Replayed"]) == ("false", "true")
    assert Loan.objects.filter(credit_line=acme.line).count() == 2  # the fixture's loan and this one


def test_the_same_body_in_another_key_order_is_the_same_request(acme, post):
    post(acme.client, _drawdowns(acme), DRAWDOWN, key="k1")
    reordered = dict(reversed(list(DRAWDOWN.items())))

    assert post(acme.client, _drawdowns(acme), reordered, key="k1")["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize(
    "change", [{"amount": "2000"}, {"term_months": 6}, {"path": "other line"}], ids=["body", "term", "path"]
)
def test_the_same_key_for_another_request_is_refused_with_422(acme, post, make_other_line, change):
    post(acme.client, _drawdowns(acme), DRAWDOWN, key="k1")
    path = f"/api/v1/credit-lines/{make_other_line(acme).pk}/drawdowns" if "path" in change else _drawdowns(acme)
    body = {**DRAWDOWN, **{k: v for k, v in change.items() if k != "path"}}

    response = post(acme.client, path, body, key="k1")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Loan.objects.filter(credit_line__borrower=acme.borrower).count() == 2


def test_the_same_key_while_the_first_request_runs_is_refused_with_409(acme, post):
    body = b'{"amount":"1000","term_months":3,"method":"equal_installment"}'
    fingerprint = request_fingerprint(method="POST", path=_drawdowns(acme), body=body)
    IdempotencyRecord.objects.create(
        partner=acme.partner, key="k1", fingerprint=fingerprint, created_at=timezone.now(),
        expires_at=timezone.now() + timedelta(hours=24),
    )  # fmt: skip

    response = post(acme.client, _drawdowns(acme), DRAWDOWN, key="k1")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_in_flight"


def test_an_expired_key_is_a_new_request(acme, post, person):
    post(acme.client, "/api/v1/borrowers", person(1), key="k1")
    IdempotencyRecord.objects.filter(key="k1").update(expires_at=timezone.now() - timedelta(seconds=1))

    response = post(acme.client, "/api/v1/borrowers", person(2), key="k1")

    assert response.status_code == 201 and response["Idempotent-Replayed"] == "false"
    assert acme.partner.borrowers.count() == 3


def test_after_expiry_a_drawdown_key_still_draws_once_because_the_service_keeps_it(acme, post):
    first = post(acme.client, _drawdowns(acme), DRAWDOWN, key="k1")
    IdempotencyRecord.objects.filter(key="k1").update(expires_at=timezone.now() - timedelta(seconds=1))

    same = post(acme.client, _drawdowns(acme), DRAWDOWN, key="k1")
    IdempotencyRecord.objects.filter(key="k1").update(expires_at=timezone.now() - timedelta(seconds=1))
    other = post(acme.client, _drawdowns(acme), {**DRAWDOWN, "amount": "2000"}, key="k1")

    assert same.status_code == 201 and same.json()["id"] == first.json()["id"]
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_conflict"
    assert Loan.objects.filter(credit_line=acme.line).count() == 2


def test_a_refusal_by_a_rule_is_replayed_but_invalid_fields_free_the_key(acme, post):
    refused = post(acme.client, _drawdowns(acme), {**DRAWDOWN, "amount": "90000"}, key="k1")
    again = post(acme.client, _drawdowns(acme), {**DRAWDOWN, "amount": "90000"}, key="k1")
    invalid = post(acme.client, _drawdowns(acme), {**DRAWDOWN, "amount": "-5"}, key="k2")
    corrected = post(acme.client, _drawdowns(acme), DRAWDOWN, key="k2")

    assert refused.status_code == again.status_code == 422 and again["Idempotent-Replayed"] == "true"
    assert refused.json() == again.json()
    assert invalid.status_code == 400 and corrected.status_code == 201


def test_a_post_that_moves_money_needs_the_header(acme, post):
    response = post(acme.client, f"/api/v1/loans/{acme.loan.pk}/repayments", {"amount": "10"}, key="")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["Idempotency-Key"]
    assert not Repayment.objects.exists()


def test_an_overlong_key_is_refused(acme, post):
    response = post(acme.client, f"/api/v1/loans/{acme.loan.pk}/repayments", {"amount": "10"}, key="k" * 65)

    assert response.status_code == 400


def test_expired_keys_are_purged_by_the_close_of_day(acme, post):
    from core.close import days_close_until

    post(acme.client, _drawdowns(acme), DRAWDOWN, key="k1")
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    days_close_until(until=acme.loan.requested_on)

    assert not IdempotencyRecord.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_requests_with_one_key_make_exactly_one_repayment(acme):
    threads, start = 12, threading.Barrier(12)
    outcomes: list = [None] * threads

    def send(index: int) -> None:
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {acme.key}", HTTP_IDEMPOTENCY_KEY="race-1")
        try:
            start.wait(timeout=30)
            response = client.post(f"/api/v1/loans/{acme.loan.pk}/repayments", {"amount": "500.00"}, format="json")
            outcomes[index] = (response.status_code, response.json())
        except Exception as error:  # reported by the assertions below
            outcomes[index] = error
        finally:
            connection.close()

    workers = [threading.Thread(target=send, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    assert all(isinstance(outcome, tuple) for outcome in outcomes), outcomes
    statuses = sorted(status for status, _ in outcomes)
    assert set(statuses) <= {201, 409} and 201 in statuses
    assert Repayment.objects.filter(loan=acme.loan).count() == 1
    repayment = Repayment.objects.get(loan=acme.loan)
    assert {body["id"] for status, body in outcomes if status == 201} == {repayment.pk}
    assert repayment.amount == Decimal("500.00")
