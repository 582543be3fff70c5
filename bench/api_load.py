"""Load test of the partner API: gunicorn on PostgreSQL, driven by a threaded client with a partner mix.

    .venv/bin/python bench/api_load.py [--workers 3] [--threads 8] [--seconds 60] [--reads-seconds 60]

Issue 6 targets: the mix (quotes, drawdowns, repayments, reads) ≥ 150 requests/s with p99 ≤ 150 ms and
zero errors; reads alone ≥ 400 requests/s. Uses its own database, dropped and recreated
(BENCH_DATABASE_URL, default lending_bench_api). The client runs on the same machine as the server and
the database, so all three share its cores: the figures are a floor for a server with the machine alone.
"""

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import _django

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/lending_bench_api"
MIX_TARGET, P99_TARGET_MS, READS_TARGET = 150, 150, 400

# A partner's day: mostly reads (a borrower's app showing its loans), quotes before drawing, some money.
MIX = [
    ("get loan", 25),
    ("get schedule", 10),
    ("get credit line", 10),
    ("list loans", 5),
    ("payoff quote", 10),
    ("quote", 20),
    ("drawdown", 10),
    ("repayment", 10),
]
READS = [("get loan", 40), ("get schedule", 20), ("get credit line", 20), ("list loans", 10), ("payoff quote", 10)]


def set_up(lines: int) -> tuple[str, list[int], list[int]]:
    """A partner with a high rate limit, `lines` borrowers with a line each and one loan per line."""
    from stdnum.cn import ric
    from tqdm import tqdm

    from core.business_date import business_date_current
    from lending.models import Partner, Product
    from lending.services.borrowers import borrower_onboard_person
    from lending.services.credit_lines import credit_line_open
    from lending.services.loans import loan_drawdown
    from partners.models import PartnerApiSettings
    from partners.services import api_key_issue

    partner = Partner.objects.create(code="bench", name="Benchmark partner")
    PartnerApiSettings.objects.create(partner=partner, requests_per_minute=10_000_000)
    _, key = api_key_issue(partner=partner, label="bench")
    product = Product.objects.get(code="revolving-cash-line")
    today = business_date_current()
    line_ids, loan_ids = [], []
    for i in tqdm(range(lines), desc="set-up", unit="line", mininterval=5, file=sys.stderr):
        born = date(1970, 1, 1) + timedelta(days=i // 1000)
        base = f"110101{born:%Y%m%d}{i % 1000:03d}"
        borrower = borrower_onboard_person(
            partner=partner, name=f"Bench {i}", national_id=base + ric.calc_check_digit(base + "0"),
            mobile="13800138000", monthly_income=Decimal("20000"), today=today,
        )  # fmt: skip
        line = credit_line_open(
            borrower=borrower, product=product, limit=Decimal("200000"), daily_rate=Decimal("0.0004"), reason="bench"
        )
        loan = loan_drawdown(
            credit_line_id=line.pk, amount=Decimal("12000"), term_months=12, method="equal_installment", disburse=True
        )
        line_ids.append(line.pk)
        loan_ids.append(loan.pk)
    return key, line_ids, loan_ids


def request_for(kind: str, rng: random.Random, lines: list[int], loans: list[int]) -> tuple[str, str, dict | None]:
    loan, line = rng.choice(loans), rng.choice(lines)
    if kind == "get loan":
        return "GET", f"/api/v1/loans/{loan}", None
    if kind == "get schedule":
        return "GET", f"/api/v1/loans/{loan}/schedule", None
    if kind == "get credit line":
        return "GET", f"/api/v1/credit-lines/{line}", None
    if kind == "list loans":
        return "GET", f"/api/v1/loans?credit_line_id={line}&state=current&limit=20", None
    if kind == "payoff quote":
        return "GET", f"/api/v1/loans/{loan}/payoff-quote", None
    if kind == "quote":
        body = {"amount": str(rng.choice([1000, 5000, 12000])), "term_months": rng.choice([3, 6, 12])}
        return "POST", "/api/v1/quotes", {**body, "method": "equal_installment", "credit_line_id": line}
    if kind == "drawdown":
        return "POST", f"/api/v1/credit-lines/{line}/drawdowns", {
            "amount": "500", "term_months": 3, "method": "equal_principal",
        }  # fmt: skip
    return "POST", f"/api/v1/loans/{loan}/repayments", {"amount": "10.00"}


def drive(*, port: int, key: str, mix, seconds: float, threads: int, lines, loans) -> dict:
    """Run `threads` client threads for `seconds`; each keeps one connection and sends the mix back to back."""
    kinds = [kind for kind, weight in mix for _ in range(weight)]
    results: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        rng = random.Random(index)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local, local_errors = defaultdict(list), defaultdict(int)
        while time.perf_counter() < deadline:
            kind = rng.choice(kinds)
            method, path, body = request_for(kind, rng, lines, loans)
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            if kind in ("drawdown", "repayment"):
                headers["Idempotency-Key"] = secrets.token_hex(12)
            started = time.perf_counter()
            try:
                connection.request(method, path, body=json.dumps(body) if body else None, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = 200 <= response.status < 300
            except (OSError, http.client.HTTPException):
                connection.close()
                ok = False
            local[kind].append((time.perf_counter() - started) * 1000)
            if not ok:
                local_errors[kind] += 1
        with lock:
            for kind, values in local.items():
                results[kind] += values
            for kind, count in local_errors.items():
                errors[kind] += count

    pool = [threading.Thread(target=worker, args=(index,)) for index in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    every = [value for values in results.values() for value in values]
    return {
        "seconds": round(elapsed, 1),
        "requests": len(every),
        "rate": round(len(every) / elapsed, 1),
        "p50_ms": round(statistics.median(every), 1),
        "p95_ms": round(percentile(every, 95), 1),
        "p99_ms": round(percentile(every, 99), 1),
        "errors": sum(errors.values()),
        "by_kind": {
            kind: {"n": len(values), "p50_ms": round(statistics.median(values), 1),
                   "p99_ms": round(percentile(values, 99), 1), "errors": errors.get(kind, 0)}
            for kind, values in sorted(results.items())
        },
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }  # fmt: skip


def in_process_cost(*, key: str, lines, loans, per_kind: int = 200) -> dict[str, float]:
    """Milliseconds per request of each kind through Django in this process (no HTTP, no load client):
    what one request costs the server, so capacity per core is about 1000 / cost."""
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    rng = random.Random(0)
    costs = {}
    for kind, _ in MIX:
        started = time.perf_counter()
        for _ in range(per_kind):
            method, path, body = request_for(kind, rng, lines, loans)
            if method == "GET":
                client.get(path)
            else:
                client.post(
                    path, json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY=secrets.token_hex(12)
                )
        costs[kind] = round((time.perf_counter() - started) / per_kind * 1000, 2)
    return costs


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def serve(*, workers: int, port: int, database_url: str) -> subprocess.Popen:
    """gunicorn in production mode (DEBUG off) with the PII keys the set-up used."""
    from django.conf import settings

    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "PII_ENCRYPTION_KEYS": ",".join(f"{k}:{v}" for k, v in settings.PII_ENCRYPTION_KEYS.items()),
        "PII_ACTIVE_KEY_ID": settings.PII_ACTIVE_KEY_ID,
        "PII_HASH_KEY": settings.PII_HASH_KEY,
        "LOG_LEVEL": "WARNING",
    }
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi", "--workers", str(workers),
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/api/v1/loans")
            connection.getresponse().read()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--threads", type=int, default=8, help="client threads")
    parser.add_argument("--seconds", type=float, default=60, help="length of the mixed run")
    parser.add_argument("--reads-seconds", type=float, default=60, help="length of the reads-only run")
    parser.add_argument("--lines", type=int, default=300)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    _django.setup(database_url=database_url)
    key, lines, loans = set_up(args.lines)
    costs = in_process_cost(key=key, lines=lines, loans=loans)
    from django.db import connections

    connections.close_all()
    server = serve(workers=args.workers, port=args.port, database_url=database_url)
    try:
        drive(port=args.port, key=key, mix=MIX, seconds=5, threads=args.threads, lines=lines, loans=loans)  # warm-up
        mixed = drive(
            port=args.port, key=key, mix=MIX, seconds=args.seconds, threads=args.threads, lines=lines, loans=loans
        )
        reads = drive(
            port=args.port, key=key, mix=READS, seconds=args.reads_seconds, threads=args.threads, lines=lines,
            loans=loans,
        )  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print(f"machine: {_django.machine()}; gunicorn sync workers: {args.workers}; client threads: {args.threads}")
    print(json.dumps({"in_process_ms_per_request": costs, "mixed": mixed, "reads": reads}, indent=2))
    mix_ok = mixed["rate"] >= MIX_TARGET and mixed["p99_ms"] <= P99_TARGET_MS and mixed["errors"] == 0
    print(
        f"mix: {mixed['rate']}/s, p99 {mixed['p99_ms']} ms, {mixed['errors']} errors "
        f"({verdict(mix_ok)} ≥{MIX_TARGET}/s, p99 ≤{P99_TARGET_MS} ms, 0 errors)"
    )
    reads_ok = reads["rate"] >= READS_TARGET and reads["errors"] == 0
    print(f"reads: {reads['rate']}/s, {reads['errors']} errors ({verdict(reads_ok)} ≥{READS_TARGET}/s)")


if __name__ == "__main__":
    main()
