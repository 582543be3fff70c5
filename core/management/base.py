"""A base for the project's management commands.

Commands stay thin: parse, call a service, report. This base adds `--json`,
turns DomainError into a clean CommandError (no traceback), and prints
progress of multi-step work to stderr.
"""

import json
import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.errors import DomainError


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date in YYYY-MM-DD form") from None


class DomainCommand(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except DomainError as error:
            raise CommandError(f"{error} [{error.code}]") from None

    def emit(self, options, result: dict, text: str) -> None:
        if options.get("json"):
            self.stdout.write(json.dumps(result, default=str, indent=2))
        else:
            self.stdout.write(text)


class StderrProgress:
    """Progress of a close of day: a line per step, chunk counts, and a bar over the days."""

    def __init__(self, *, days: int, stream=None):
        self.stream = stream or sys.stderr
        self.days = tqdm(total=days, unit="day", desc="close of day", file=self.stream, disable=days <= 1)

    def step_started(self, business_date, step):
        self.stream.write(f"{business_date} {step} …\n")
        self.stream.flush()

    def step_finished(self, business_date, step, *, skipped, detail):
        status = "skipped (already done)" if skipped else "done"
        summary = ", ".join(f"{key}={value}" for key, value in detail.items() if key != "digest")
        self.stream.write(f"{business_date} {step} {status}{' — ' + summary if summary else ''}\n")
        self.stream.flush()

    def chunk_done(self, step, done, total):
        self.stream.write(f"    {step}: {done}/{total} chunks\n")
        self.stream.flush()

    def day_finished(self, closed_date, open_date):
        self.days.update(1)

    def close(self):
        self.days.close()
