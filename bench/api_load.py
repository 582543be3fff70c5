"""Load test of the partner API: gunicorn on PostgreSQL, driven by wrk with a partner mix.

    .venv/bin/python bench/api_load.py [--workers 3] [--worker-threads 1] [--connections 8]
                                       [--seconds 60] [--reads-seconds 60] [--reuse]

Issue 6 targets: the mix (quotes, drawdowns, repayments, reads) ≥ 150 requests/s with p99 ≤ 150 ms and
zero errors; reads alone ≥ 400 requests/s. Uses its own database, dropped and recreated
(BENCH_DATABASE_URL, default lending_bench_api; `--reuse` keeps the last one). The load tool is wrk
(Debian package `wrk`) with bench/api_load.lua; it runs on the same machine as the server and the
database, so all three share its cores: the figures are a floor for a server with the machine alone.
"""

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
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


def reuse_set_up() -> tuple[str, list[int], list[int]]:
    """A new key for the last run's partner, and its lines and current loans."""
    from lending.models import CreditLine, Loan, Partner
    from partners.services import api_key_issue

    partner = Partner.objects.get(code="bench")
    _, key = api_key_issue(partner=partner, label="bench rerun")
    lines = list(CreditLine.objects.filter(borrower__partner=partner).order_by("pk").values_list("pk", flat=True))
    loans = Loan.objects.filter(credit_line__borrower__partner=partner, state=Loan.State.CURRENT)
    return key, lines, list(loans.order_by("pk").values_list("pk", flat=True)[: len(lines)])


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


def drive(*, port: int, key: str, mix, seconds: float, connections: int, lines, loans, run_tag: str) -> dict:
    """Run wrk for `seconds` with `connections` keep-alive connections, each sending the mix back to back."""
    kinds = [kind.replace(" ", "_") for kind, weight in mix for _ in range(weight)]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as config:
        config.write("\n".join([key, ",".join(map(str, lines)), ",".join(map(str, loans)), ",".join(kinds), run_tag]))
    command = [
        "wrk", "--threads", "1", "--connections", str(connections), "--duration", f"{int(seconds)}s",
        "--timeout", "30s", "--script", str(ROOT / "bench" / "api_load.lua"), f"http://127.0.0.1:{port}",
    ]  # fmt: skip
    try:
        output = subprocess.run(
            command, env={**os.environ, "API_LOAD_CONFIG": config.name}, capture_output=True, text=True, check=True
        )
    finally:
        os.unlink(config.name)
    sys.stderr.write(output.stderr)
    result = json.loads(next(line for line in output.stdout.splitlines() if line.startswith("RESULT "))[7:])
    elapsed = result["microseconds"] / 1e6
    return {
        "seconds": round(elapsed, 1),
        "requests": result["requests"],
        "rate": round(result["requests"] / elapsed, 1),
        "p50_ms": round(result["p50_us"] / 1000, 1),
        "p95_ms": round(result["p95_us"] / 1000, 1),
        "p99_ms": round(result["p99_us"] / 1000, 1),
        "max_ms": round(result["max_us"] / 1000, 1),
        "errors": result["status_errors"] + result["socket_errors"],
        # Of the errors: 5xx or no answer (a server fault), the rest are 4xx refusals.
        "server_errors": result["server_errors"] + result["socket_errors"],
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


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


def serve(*, workers: int, threads: int, port: int, database_url: str) -> subprocess.Popen:
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
        "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
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
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--worker-threads", type=int, default=1, help="threads per gunicorn worker (gthread if > 1)")
    parser.add_argument("--connections", type=int, default=8, help="wrk keep-alive connections")
    parser.add_argument("--seconds", type=float, default=60, help="length of the mixed run")
    parser.add_argument("--reads-seconds", type=float, default=60, help="length of the reads-only run")
    parser.add_argument("--lines", type=int, default=300)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--reuse", action="store_true", help="reuse the last run's database instead of a new set-up")
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    _django.setup(database_url=database_url, fresh=not args.reuse)
    key, lines, loans = reuse_set_up() if args.reuse else set_up(args.lines)
    costs = in_process_cost(key=key, lines=lines, loans=loans)
    from django.db import connections

    connections.close_all()
    server = serve(workers=args.workers, threads=args.worker_threads, port=args.port, database_url=database_url)
    common = {"port": args.port, "key": key, "connections": args.connections, "lines": lines, "loans": loans}
    run_tag = secrets.token_hex(4)
    try:
        drive(mix=MIX, seconds=5, run_tag=f"{run_tag}w", **common)
        mixed = drive(mix=MIX, seconds=args.seconds, run_tag=f"{run_tag}m", **common)
        reads = drive(mix=READS, seconds=args.reads_seconds, run_tag=f"{run_tag}r", **common)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print(
        f"machine: {_django.machine()}; gunicorn workers: {args.workers} × {args.worker_threads} thread(s); "
        f"wrk connections: {args.connections}"
    )
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
