"""create_partner and issue_api_key: the key is printed once, stored only as a digest, and authenticates."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from lending.models import Partner
from partners.models import ApiKey


def _run(*args) -> dict:
    out = StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_a_partner_is_created_and_its_printed_key_authenticates(db):
    partner = _run("create_partner", "Ant Channel")
    issued = _run("issue_api_key", partner["code"])

    assert partner["code"] == "ant-channel" and Partner.objects.filter(code="ant-channel").exists()
    api_key = ApiKey.objects.get(prefix=issued["prefix"])
    assert issued["key"] not in (api_key.digest, api_key.prefix) and issued["key"].startswith(api_key.prefix)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued['key']}")
    assert client.get("/api/v1/loans").status_code == 200
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at is not None


def test_a_duplicate_partner_and_an_unknown_partner_are_clean_errors(db):
    _run("create_partner", "Ant Channel")

    with pytest.raises(CommandError, match="partner_exists"):
        _run("create_partner", "Ant Channel")
    with pytest.raises(CommandError, match="no partner"):
        _run("issue_api_key", "nobody")
