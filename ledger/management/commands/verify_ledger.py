"""Verify the ledger's hash chains, day seals and registered reconciliations."""

from django.core.management.base import CommandError

from core.management.base import DomainCommand
from ledger.verification import ledger_problems


class Command(DomainCommand):
    help = "Walk every chain and seal; exit non-zero naming the first broken link."

    def handle(self, *args, **options):
        problems = list(ledger_problems())
        if not problems:
            self.emit(options, {"ok": True, "problems": []}, "Ledger verified: chains, seals and balances hold.")
            return
        self.emit(
            options,
            {"ok": False, "problems": [vars(p) for p in problems]},
            "\n".join(str(p) for p in problems),
        )
        raise CommandError(f"ledger verification failed: first problem: {problems[0]} ({len(problems)} in all)")
