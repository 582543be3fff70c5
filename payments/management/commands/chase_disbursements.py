"""Re-instruct disbursements the gateway has not answered; fail them after the last attempt."""

from core.management.base import DomainCommand
from payments.services.disbursements import disbursements_chase


class Command(DomainCommand):
    help = "Chase disbursement instructions with no answer (same reference: the gateway pays once at most)."

    def handle(self, *args, **options):
        counts = disbursements_chase()
        self.emit(options, counts, ", ".join(f"{key}={value}" for key, value in sorted(counts.items())))
