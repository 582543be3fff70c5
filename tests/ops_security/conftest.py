"""Fixtures for the security and observability tests: a partner with a key, a staff user, a clean cache."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from lending.models import Partner
from partners.services import api_key_cache_clear, api_key_issue

STAFF_PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    api_key_cache_clear()
    yield
    cache.clear()


@pytest.fixture
def partner_key(db) -> tuple[Partner, str]:
    partner = Partner.objects.create(code="acme", name="Acme Finance")
    _, key = api_key_issue(partner=partner)
    return partner, key


@pytest.fixture
def staff(db, settings):
    # A fast hasher: these tests log in dozens of times, and a lock-out window is timed against them.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return get_user_model().objects.create_superuser("risk", "risk@example.com", STAFF_PASSWORD)
