"""Production settings, each environment in a fresh interpreter: deploy check clean, weak secrets refused, JSON logs."""

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
OWN_VARIABLES = ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL", "LOG_FORMAT", "METRICS_")


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _run(args: list[str], **environment: str | None) -> subprocess.CompletedProcess:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PII_", "SECURE_", "LOGIN_", "CSRF_", *OWN_VARIABLES))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="backoffice.example.com",
        CSRF_TRUSTED_ORIGINS="https://backoffice.example.com",
        PII_ENCRYPTION_KEYS=f"k1:{_key()}",
        PII_ACTIVE_KEY_ID="k1",
        PII_HASH_KEY=_key(),
        DATABASE_URL="sqlite:///:memory:",
    )
    for name, value in environment.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _refusal(**environment: str | None) -> str:
    result = _run(["-c", "import django; django.setup()"], **environment)
    assert result.returncode != 0, result.stdout
    return result.stderr.strip().splitlines()[-1]


def test_the_deploy_check_passes_without_warnings_behind_a_tls_proxy_with_a_custom_header():
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Ssl: on",
        METRICS_TOKEN=secrets.token_urlsafe(32),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_are_hardened():
    report = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({name: getattr(settings, name) for name in (
    "DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER", "CSRF_TRUSTED_ORIGINS", "SECURE_REDIRECT_EXEMPT", "LOG_FORMAT")}))
"""
    result = _run(["-c", report], SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "CSRF_TRUSTED_ORIGINS": ["https://backoffice.example.com"],
        "SECURE_REDIRECT_EXEMPT": ["^healthz$", "^readyz$"],
        "LOG_FORMAT": "json",
    }


def test_a_secret_key_with_too_few_distinct_characters_is_refused():
    message = _refusal(SECRET_KEY="ab" * 40)

    assert message == (
        "django.core.exceptions.ImproperlyConfigured: SECRET_KEY is a development or too-short key; set a strong one"
    )


def test_djangos_insecure_placeholder_key_is_refused():
    assert "SECRET_KEY is a development" in _refusal(SECRET_KEY="django-insecure-" + secrets.token_urlsafe(64))


def test_a_malformed_proxy_header_setting_is_refused_with_its_format():
    assert "SECURE_PROXY_SSL_HEADER is 'Header-Name: value'" in _refusal(SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")


def test_production_logs_are_json_lines_with_personal_data_masked():
    script = """
import django, logging
django.setup()
logging.getLogger("lending.demo").warning("borrower %s called from %s", "11010119900101004X", "13812345678")
"""
    result = _run(["-c", script])

    assert result.returncode == 0, result.stderr
    record = json.loads(result.stderr.strip().splitlines()[-1])
    assert record["message"] == "borrower **************004X called from *******5678"
    assert (record["level"], record["logger"], record["request_id"], record["partner"]) == (
        "WARNING",
        "lending.demo",
        "-",
        "-",
    )


def test_a_malformed_metrics_allow_list_is_refused_at_start_not_at_the_first_scrape():
    assert "METRICS_ALLOWED_IPS: 'intranet' is not an address or network" in _refusal(
        METRICS_ALLOWED_IPS="10.0.0.0/8,intranet"
    )
