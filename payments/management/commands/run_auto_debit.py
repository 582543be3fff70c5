"""Run one auto-debit round now (the close of day runs the first; schedule this for the later ones)."""

from core.management.base import DomainCommand
from payments.services.debits import debit_round_run


class Command(DomainCommand):
    help = "Send one round of auto-debit instructions for every loan with something due, within the retry plan."

    def handle(self, *args, **options):
        counts = debit_round_run()
        self.emit(
            options, counts, ", ".join(f"{key}={value}" for key, value in sorted(counts.items())) or "nothing due"
        )
