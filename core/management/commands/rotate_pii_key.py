"""Re-encrypt every PII column under PII_ACTIVE_KEY_ID, in chunks, resumable (core/pii_rotation.py)."""

from core.management.base import DomainCommand
from core.pii_rotation import DEFAULT_CHUNK, pii_key_rotate, pii_tokens_stale_count


class ChunkProgress:
    """Chunk counts per model on stderr; the other progress events do not occur in a rotation."""

    def __init__(self, stream):
        self.stream = stream

    def chunk_done(self, step, done, total):
        self.stream.write(f"{step}: {done}/{total} chunks\n")
        self.stream.flush()

    def step_started(self, business_date, step):
        pass

    def step_finished(self, business_date, step, *, skipped, detail):
        pass

    def day_finished(self, closed_date, open_date):
        pass


class Command(DomainCommand):
    help = (
        "Re-encrypt stored PII under the active key so that old keys can be removed from PII_ENCRYPTION_KEYS. "
        "Safe to interrupt and run again."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK, help="rows per transaction")
        parser.add_argument("--check", action="store_true", help="only count the rows still under an old key")

    def handle(self, *args, chunk_size, check, **options):
        if check:
            stale = pii_tokens_stale_count()
            self.emit(
                options,
                {"stale": stale},
                "\n".join(f"{label}: {n} row(s) under an old key" for label, n in stale.items()),
            )
            return
        rewritten = pii_key_rotate(chunk_size=chunk_size, progress=ChunkProgress(self.stderr))
        remaining = pii_tokens_stale_count()
        self.emit(
            options,
            {"rewritten": rewritten, "remaining": remaining},
            "\n".join(f"{label}: {n} row(s) re-encrypted" for label, n in rewritten.items())
            + f"\nRows still under an old key: {sum(remaining.values())}",
        )
