"""Re-score every active credit line from its behaviour and raise, lower or freeze it, with recorded reasons."""

import sys
import time

from core.management.base import DomainCommand
from underwriting.limits import limits_reassess


class Command(DomainCommand):
    help = __doc__

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--chunk-size", type=int, default=50_000)
        parser.add_argument("--dry-run", action="store_true", help="score and count, write nothing")

    def handle(self, *args, **options):
        started = time.perf_counter()
        counts = limits_reassess(
            chunk_size=options["chunk_size"],
            dry_run=options["dry_run"],
            progress=lambda scored: sys.stderr.write(f"  {scored} lines scored\n"),
        )
        seconds = time.perf_counter() - started
        result = {**counts, "seconds": round(seconds, 2), "dry_run": options["dry_run"]}
        self.emit(
            options,
            result,
            f"{counts['scored']} lines scored in {seconds:.1f} s: {counts['raise']} raised, {counts['lower']} lowered, "
            f"{counts['freeze']} frozen{' (dry run, nothing written)' if options['dry_run'] else ''}",
        )
