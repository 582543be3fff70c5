"""Start Django for a benchmark against its own PostgreSQL database (created and migrated if missing)."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/lending_bench"


def setup(*, database_url: str | None = None, fresh: bool = True) -> None:
    """Point Django at the benchmark database; `fresh` drops and recreates it first."""
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = database_url or os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    import psycopg
    from django.conf import settings  # noqa: F401  (reads DATABASE_URL)

    name = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as admin:
        if fresh:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def machine() -> str:
    import platform

    processor = platform.processor() or platform.machine()
    return f"{os.cpu_count()} cores, {processor}, Python {platform.python_version()}"
