"""Close of day on a synthetic book in PostgreSQL (issue 4: 1,000,000 loans ≤ 60 s, ≤ 3× the SQL floor, ≤ 1 GB).

    .venv/bin/python bench/close_day_bench.py [--loans 200000] [--catchup-days 30] [--date 2026-01-15] [--profile]

Uses its own database, dropped and recreated (BENCH_CLOSE_DATABASE_URL, default lending_bench_close on
127.0.0.1). The book is written with set-based SQL (bench/close_day_book.py), then:
1. the SQL floor of day D (bench/close_day_floor.py) runs in a transaction rolled back;
2. `core.close.day_close(business_date=D)` runs and is timed, per step and per SQL statement kind;
3. `days_close_until` catches up the next N days. Between days, 97 % of the installments of current loans
   that fell due unpaid are paid in SQL (as if paid on the next day before its close; the other 3 % go
   overdue), so the book does not turn delinquent wholesale; that payment time is measured apart and not
   counted in the close (and posts no ledger entry).
Celery runs eagerly in this process (no broker): the chunks run on `--threads` threads (default
`CLOSE_CHUNK_THREADS`, 1), each with its own connection. SQL is client-timed on every connection, so with
several threads the summed SQL time can exceed the wall time.
"""

import argparse
import cProfile
import io
import os
import pstats
import re
import resource
import threading
import time
from collections import defaultdict
from datetime import date, timedelta

import _django
import close_day_book
import close_day_floor

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/lending_bench_close"
TARGET_LOANS, TARGET_SECONDS, TARGET_FLOOR_RATIO, TARGET_RSS_MB = 1_000_000, 60.0, 3.0, 1024

PAY_DUE = """
WITH paid AS (
    UPDATE lending_installment i
       SET state = 'paid', principal_paid = i.principal, interest_paid = i.interest, fee_paid = i.fee,
           penalty_paid = i.penalty, paid_on = %(d)s
      FROM lending_loan l
     WHERE l.id = i.loan_id AND l.state = 'current' AND i.state = 'due'
       AND mod(i.loan_id * 7 + (%(d)s::date - date '2000-01-01'), 100) >= 3
 RETURNING i.loan_id, i.principal, i.interest, i.fee, i.penalty
), per_loan AS (
    SELECT loan_id, sum(principal) AS principal, sum(interest) AS interest, sum(fee) AS fee,
           sum(penalty) AS penalty
      FROM paid GROUP BY loan_id
)
UPDATE lending_loan l
   SET principal_outstanding = l.principal_outstanding - p.principal,
       interest_outstanding = greatest(l.interest_outstanding - p.interest, 0),
       fee_outstanding = greatest(l.fee_outstanding - p.fee, 0),
       penalty_outstanding = greatest(l.penalty_outstanding - p.penalty, 0),
       state = CASE WHEN EXISTS (SELECT 1 FROM lending_installment x
                                  WHERE x.loan_id = l.id AND x.state IN ('scheduled', 'overdue'))
                    THEN l.state ELSE 'paid_off' END
  FROM per_loan p
 WHERE l.id = p.loan_id
"""


STARTED = time.perf_counter()


def say(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:7.1f} s] {message}", flush=True)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


class SqlTimer:
    """A Django execute wrapper: time, calls and rows per statement kind ("UPDATE lending_loan")."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.rows: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()

    @staticmethod
    def kind(sql: str) -> str:
        verb = sql.lstrip().split(None, 1)[0].upper()
        if verb == "SELECT":
            match = re.search(r'\bFROM\s+"?(\w+)"?', sql)
            table = match.group(1) if match else "?"
            return f"SELECT {table}{' FOR UPDATE' if 'FOR UPDATE' in sql else ''}"
        match = re.search(r'\b(?:INTO|UPDATE|FROM)\s+"?(\w+)"?', sql)
        return f"{verb} {match.group(1) if match else '?'}"

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = self.kind(sql)
            rowcount = getattr(context["cursor"], "rowcount", -1)
            with self.lock:
                self.seconds[key] += time.perf_counter() - started
                self.calls[key] += 1
                self.rows[key] += max(rowcount, 0)

    def connection_created(self, sender, connection, **kwargs):
        """Time the chunk threads' own connections too."""
        if self not in connection.execute_wrappers:
            connection.execute_wrappers.append(self)

    def total(self) -> float:
        return sum(self.seconds.values())

    def report(self, top: int = 15) -> list[str]:
        ranked = sorted(self.seconds.items(), key=lambda item: -item[1])[:top]
        return [
            f"    {seconds:7.2f} s  {self.calls[key]:6d} calls  {self.rows[key]:9d} rows  {key}"
            for key, seconds in ranked
        ]


class BenchProgress:
    """Times each step of each day; after a day, optionally pays what fell due unpaid (outside the close)."""

    def __init__(self, *, pay_between_days: bool = False, chatty: bool = True):
        self.step_seconds: dict[tuple[date, str], float] = {}
        self.details: dict[tuple[date, str], dict] = {}
        self.day_seconds: dict[date, float] = {}
        self.payment_seconds = 0.0
        self.pay_between_days = pay_between_days
        self.chatty = chatty
        self._step_started = self._day_started = time.perf_counter()

    def step_started(self, business_date, step):
        self._step_started = time.perf_counter()

    def step_finished(self, business_date, step, *, skipped, detail):
        seconds = time.perf_counter() - self._step_started
        self.step_seconds[(business_date, step)] = seconds
        self.details[(business_date, step)] = detail
        if self.chatty:
            say(f"    {business_date} {step}: {seconds:.2f} s {detail}")

    def chunk_done(self, step, done, total):
        if self.chatty and (done % 10 == 0 or done == total):
            say(f"    {step}: chunk {done}/{total} ({time.perf_counter() - self._step_started:.1f} s)")

    def day_finished(self, closed_date, open_date):
        self.day_seconds[closed_date] = time.perf_counter() - self._day_started
        if self.pay_between_days:
            from django.db import connection

            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(PAY_DUE, {"d": open_date})
            self.payment_seconds += time.perf_counter() - started
        self._day_started = time.perf_counter()


def build(args) -> tuple[float, dict]:
    import psycopg

    with psycopg.connect(args.database_url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        say(f"building {args.loans:,} loans × 12 installments for business date {args.date} …")
        seconds = close_day_book.build(conn, loans=args.loans, business_date=args.date, say=say)
        book = close_day_book.summary(conn, args.date)
    say(f"book built in {seconds:.1f} s: {book}")
    return seconds, book


def floor(args) -> tuple[float, dict, dict]:
    import psycopg

    with psycopg.connect(args.database_url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        say("SQL floor of the day (rolled back) …")
        seconds, timings, rows = close_day_floor.run(conn, business_date=args.date, say=say)
        for name, value in timings.items():
            say(f"    {value:6.2f} s  {rows[name]:8d} rows  {name}")
        say(
            f"floor: {seconds:.2f} s ({rows['events']:,} loans with events, {rows['entries']:,} entries,"
            f" {rows['bucket moves']:,} bucket moves, posted {rows['posted']})"
        )
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE lending_installment, lending_loan, ledger_chainhead, lending_creditline")
        say(f"VACUUM after the rolled-back floor: {time.perf_counter() - started:.1f} s")
    return seconds, timings, rows


def one_day(args, timer: SqlTimer) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.db.backends.signals import connection_created

    from core.close import day_close
    from core.models import CloseStepRun

    progress = BenchProgress()
    say(f"day_close({args.date}) on {settings.CLOSE_CHUNK_THREADS} chunk thread(s) … (load average {load()})")
    profiler = cProfile.Profile() if args.profile else None
    connection_created.connect(timer.connection_created)
    started = time.perf_counter()
    with connection.execute_wrapper(timer):
        if profiler:
            profiler.enable()
        day_close(business_date=args.date, progress=progress)
        if profiler:
            profiler.disable()
    seconds = time.perf_counter() - started
    connection_created.disconnect(timer.connection_created)
    runs = {
        run.step: (run.finished_at - run.started_at).total_seconds()
        for run in CloseStepRun.objects.filter(business_date=args.date)
    }
    accrue = progress.details.get((args.date, "lending.accrue"), {})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(l.debit) FROM ledger_journalline l JOIN ledger_journalentry e ON e.id = l.entry_id"
            " WHERE e.business_date = %s AND e.kind = 'day_close'",
            [args.date],
        )
        posted = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM lending_loanbucketchange WHERE business_date = %s", [args.date])
        moves = cursor.fetchone()[0]
    say(f"day_close posted {posted} over {accrue.get('entries')} entries; {moves} bucket moves")
    say(f"one day: {seconds:.2f} s; SQL {timer.total():.2f} s over {sum(timer.calls.values())} statements")
    for line in timer.report():
        say(line)
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(45)
        path = f"/tmp/close_day_profile_{args.loans}.txt"
        with open(path, "w") as handle:
            handle.write(out.getvalue())
        profiler.dump_stats(path.replace(".txt", ".prof"))
        say(f"profile written to {path}")
    return {
        "seconds": seconds,
        "steps": {step: progress.step_seconds[(args.date, step)] for (_, step) in progress.step_seconds},
        "runs": runs,
        "accrue": accrue,
        "sql_seconds": timer.total(),
        "rss_mb": rss_mb(),
    }


def catch_up(args, days: int) -> dict:
    from core.close import days_close_until

    progress = BenchProgress(pay_between_days=True, chatty=False)
    # Pay what fell due unpaid on the benchmark day, as if paid on the next day before its close.
    progress.day_finished(args.date, args.date + timedelta(days=1))
    progress.payment_seconds = 0.0
    first, until = args.date + timedelta(days=1), args.date + timedelta(days=days)
    say(f"catch-up {first} … {until} with days_close_until (load average {load()}) …")
    started = time.perf_counter()
    days_close_until(until=until, progress=progress)
    seconds = time.perf_counter() - started - progress.payment_seconds
    events = 0
    for day in sorted(progress.day_seconds):
        accrue = progress.details.get((day, "lending.accrue"), {})
        write_off = progress.details.get((day, "lending.write_off"), {}).get("written_off", 0)
        events += accrue.get("loans", 0)
        say(
            f"    {day}: {progress.day_seconds[day]:6.2f} s  loans {accrue.get('loans', 0):6d}"
            f"  entries {accrue.get('entries', 0):6d}  overdue {accrue.get('overdue', 0):5d}  written off {write_off}"
        )
    say(f"catch-up: {days} days in {seconds:.1f} s (+ {progress.payment_seconds:.1f} s simulated payments)")
    return {"seconds": seconds, "days": days, "events": events, "rss_mb": rss_mb()}


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=200_000)
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 1, 15), help="the benchmark day D")
    parser.add_argument("--catchup-days", type=int, default=None, help="default 30 up to 200,000 loans, else 0")
    parser.add_argument("--profile", action="store_true", help="cProfile the one-day close (this thread only)")
    parser.add_argument("--threads", type=int, default=None, help="chunk threads (default CLOSE_CHUNK_THREADS)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_CLOSE_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()
    catchup_days = args.catchup_days if args.catchup_days is not None else (30 if args.loans <= 200_000 else 0)

    load_start = load()
    say(f"machine: {_django.machine()}; load average {load_start}")
    started = time.perf_counter()
    _django.setup(database_url=args.database_url)
    from django.conf import settings

    settings.DEBUG = False  # no query log in memory, as in production
    if args.threads:
        settings.CLOSE_CHUNK_THREADS = args.threads
    say(f"database {args.database_url} recreated and migrated in {time.perf_counter() - started:.1f} s")

    build_seconds, book = build(args)
    floor_seconds, _, _ = floor(args)
    timer = SqlTimer()
    day = one_day(args, timer)
    caught = catch_up(args, catchup_days) if catchup_days else None

    events = day["accrue"].get("loans", 0)
    ratio = day["seconds"] / floor_seconds
    scale = TARGET_LOANS / args.loans
    projected = day["seconds"] * scale
    peak = rss_mb()
    print()
    print(f"Close of day — {args.loans:,} active loans, day {args.date}; {_django.machine()}")
    print(f"load average: start {load_start}, end {load()}; chunk threads {settings.CLOSE_CHUNK_THREADS}")
    print(f"{'measure':44} {'value':>16}")
    rows = [
        ("book build (SQL, incl. VACUUM ANALYZE)", f"{build_seconds:.1f} s"),
        ("installments / overdue loans", f"{book['installments']:,} / {book['overdue_loans']:,}"),
        ("loans with events on D (accrue)", f"{events:,}"),
        ("journal entries posted on D", f"{day['accrue'].get('entries', 0):,}"),
        ("loans newly overdue on D", f"{day['accrue'].get('overdue', 0):,}"),
        ("one day: day_close wall", f"{day['seconds']:.2f} s"),
        *[(f"  step {step}", f"{seconds:.2f} s") for step, seconds in day["steps"].items()],
        ("  of which SQL (client-timed)", f"{day['sql_seconds']:.2f} s"),
        ("SQL floor (hand-written, rolled back)", f"{floor_seconds:.2f} s"),
        ("day_close / floor", f"{ratio:.1f}×"),
        ("events/s (loans with events)", f"{events / day['seconds']:,.0f}"),
        ("book-loans/s", f"{args.loans / day['seconds']:,.0f}"),
    ]
    if caught:
        rows += [
            (f"catch-up {caught['days']} days (days_close_until)", f"{caught['seconds']:.1f} s"),
            ("  per day", f"{caught['seconds'] / caught['days']:.2f} s"),
            ("  events/s", f"{caught['events'] / caught['seconds']:,.0f}"),
        ]
    rows.append(("peak RSS of this process", f"{peak:.0f} MB"))
    for name, value in rows:
        print(f"{name:44} {value:>16}")
    print()
    if args.loans >= TARGET_LOANS:
        print(f"one day for {args.loans:,} loans: {day['seconds']:.1f} s — {verdict(day['seconds'] <= TARGET_SECONDS)}")
    else:
        print(
            f"one day for {TARGET_LOANS:,} loans, projected linearly from {args.loans:,}: {projected:.0f} s"
            f" — {verdict(projected <= TARGET_SECONDS)} the {TARGET_SECONDS:.0f} s target (measure with --loans"
            f" {TARGET_LOANS})"
        )
    print(f"within {TARGET_FLOOR_RATIO:.0f}× of the SQL floor: {ratio:.1f}× — {verdict(ratio <= TARGET_FLOOR_RATIO)}")
    print(f"peak RSS ≤ {TARGET_RSS_MB} MB: {peak:.0f} MB — {verdict(peak <= TARGET_RSS_MB)}")


if __name__ == "__main__":
    main()
