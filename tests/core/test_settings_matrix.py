"""The one settings module under different environments, each in a fresh interpreter.

Settings are read once per process, so each environment runs in a subprocess
(about a second each: keep their number small). Each runs once per module.
"""

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Everything config/settings.py reads, so the developer's shell never leaks in.
SETTINGS_VARIABLES = (
    "DATABASE_URL",
    "DB_CONN_MAX_AGE",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "BEHIND_TLS_PROXY",
    "BUSINESS_DATE_START",
    "DJANGO_SETTINGS_MODULE",
)

REPORT_SETTINGS = """
import json
import django
from django.conf import settings

django.setup()
database = settings.DATABASES["default"]
print(json.dumps({
    "engine": database["ENGINE"],
    "name": str(database["NAME"]),
    "host": database.get("HOST"),
    "port": database.get("PORT"),
    "user": database.get("USER"),
    "debug": settings.DEBUG,
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "broker": settings.CELERY_BROKER_URL,
    "result_backend": settings.CELERY_RESULT_BACKEND,
}))
"""


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _run(args: list[str], **environment: str) -> subprocess.CompletedProcess:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in SETTINGS_VARIABLES and not name.startswith("PII_")
    }
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env.update(environment)
    return subprocess.run(
        [sys.executable, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _settings(**environment: str) -> dict:
    result = _run(["-c", REPORT_SETTINGS], **environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _refusal(**environment: str) -> str:
    """The ImproperlyConfigured message the settings module stops with."""
    result = _run(["-c", REPORT_SETTINGS], **environment)
    assert result.returncode != 0, result.stdout
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: "), result.stderr
    return last_line


def _production(**overrides: str) -> dict[str, str]:
    environment = {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "backoffice.example.com",
        "PII_ENCRYPTION_KEYS": f"k1:{_key()}",
        "PII_ACTIVE_KEY_ID": "k1",
        "PII_HASH_KEY": _key(),
    }
    environment.update(overrides)
    return {name: value for name, value in environment.items() if value is not None}


@pytest.fixture(scope="module")
def embedded_default() -> dict:
    return _settings()


@pytest.fixture(scope="module")
def with_services() -> dict:
    return _settings(DATABASE_URL="postgres://u@db.example:5433/x", CELERY_BROKER_URL="redis://127.0.0.1:6379/0")


def test_nothing_set_uses_a_sqlite_file_in_the_project_directory(embedded_default):
    assert embedded_default["engine"] == "django.db.backends.sqlite3"
    assert embedded_default["name"] == str(PROJECT_ROOT / "db.sqlite3")


def test_nothing_set_runs_with_debug_on(embedded_default):
    assert embedded_default["debug"] is True


def test_nothing_set_runs_celery_tasks_eagerly_in_process(embedded_default):
    assert embedded_default["eager"] is True
    assert embedded_default["broker"] == ""


def test_database_url_selects_postgresql_with_host_port_and_name(with_services):
    assert with_services["engine"] == "django.db.backends.postgresql"
    assert (with_services["host"], with_services["port"], with_services["name"], with_services["user"]) == (
        "db.example",
        5433,
        "x",
        "u",
    )


def test_a_celery_broker_url_turns_eager_tasks_off_and_keeps_results_in_redis(with_services):
    assert with_services["eager"] is False
    assert with_services["broker"] == "redis://127.0.0.1:6379/0"
    assert with_services["result_backend"] == "redis://127.0.0.1:6379/0"


def test_debug_off_without_a_secret_key_is_refused():
    message = _refusal(**_production(SECRET_KEY=None))

    assert "SECRET_KEY must be set" in message


def test_debug_off_with_a_development_secret_key_is_refused():
    message = _refusal(**_production(SECRET_KEY="dev-" + secrets.token_urlsafe(64)))

    assert "SECRET_KEY is a development or too-short key" in message


def test_debug_off_without_pii_keys_is_refused():
    message = _refusal(**_production(PII_ENCRYPTION_KEYS=None, PII_ACTIVE_KEY_ID=None))

    assert "PII_ENCRYPTION_KEYS must be set" in message


def test_production_settings_pass_the_deploy_check_without_warnings(tmp_path):
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **_production(DATABASE_URL=f"sqlite:///{tmp_path / 'deploy-check.sqlite3'}"),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
