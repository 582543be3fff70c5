"""Admin logins are throttled per (username, address); partner keys and staff sessions each open only their door."""

import time

import pytest
from django.test import Client

from lending.models import Borrower

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # the staff fixture's, tests/ops_security/conftest.py
LOGIN = "/admin/login/?next=/admin/"


def _login(client: Client, password: str, address: str = "203.0.113.5", username: str = "risk"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def _logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_five_failed_logins_lock_the_username_from_that_address_even_with_the_right_password(staff, settings):
    client = Client()
    for _ in range(settings.LOGIN_MAX_FAILURES):
        assert _login(client, "wrong").status_code == 200

    refused = _login(client, PASSWORD)

    assert refused.status_code == 200
    assert "Too many failed logins" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_locked_pair_does_not_lock_the_same_user_from_another_address(staff, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        _login(Client(), "wrong", address="203.0.113.5")

    assert _logged_in(_login(Client(), PASSWORD, address="198.51.100.7"))


def test_a_successful_login_clears_the_count(staff, settings):
    client = Client()
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        _login(client, "wrong")
    assert _logged_in(_login(client, PASSWORD))

    other = Client()
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        _login(other, "wrong")
    assert _logged_in(_login(other, PASSWORD))


def test_the_lock_ends_after_the_lockout_period(staff, settings):
    settings.LOGIN_LOCKOUT_SECONDS = 2
    for _ in range(settings.LOGIN_MAX_FAILURES):
        _login(Client(), "wrong")
    assert not _logged_in(_login(Client(), PASSWORD))

    time.sleep(2.2)

    assert _logged_in(_login(Client(), PASSWORD))


def test_usernames_are_locked_case_insensitively_so_case_games_do_not_reset_the_count(staff, settings):
    for attempt in range(settings.LOGIN_MAX_FAILURES):
        _login(Client(), "wrong", username="RISK" if attempt % 2 else "risk")

    assert "Too many failed logins" in _login(Client(), PASSWORD).content.decode()


def test_a_partner_bearer_key_does_not_authenticate_the_admin(partner_key):
    _, key = partner_key

    response = Client().get("/admin/", HTTP_AUTHORIZATION=f"Bearer {key}")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_staff_session_does_not_reach_the_partner_api(staff, partner_key):
    partner, _ = partner_key
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200

    for path in ("/api/v1/borrowers", "/api/v1/loans", "/api/v1/credit-lines"):
        response = client.get(path)
        assert response.status_code in {401, 403}, path
        assert "results" not in response.json()
    assert client.post("/api/v1/borrowers", {"kind": "person"}, content_type="application/json").status_code in {
        401,
        403,
    }
    assert not Borrower.objects.exists()
