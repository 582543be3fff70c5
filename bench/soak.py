"""End-to-end soak: the demo simulator for 24 business months on PostgreSQL, with real Celery workers taking the
close-of-day chunks and the webhooks, while partners hit the API under gunicorn; then `verify_ledger`.

    .venv/bin/python bench/soak.py [--borrowers 600] [--months 24] [--api-lines 100] [--api-connections 2]

Uses its own database (BENCH_DATABASE_URL, default lending_bench_soak, dropped and recreated) and Redis
database 12 (SOAK_BROKER_URL). Pass: zero server errors (5xx or broken connections) from the API, every close
finished, every webhook delivered, and the ledger verified with zero problems. A 4xx is a refusal the API owes
its caller (e.g. a repayment on a loan that the simulated months wrote off) and is counted, not failed.
"""

import argparse
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import _django
import api_load

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/lending_bench_soak"
BROKER_URL = os.environ.get("SOAK_BROKER_URL", "redis://127.0.0.1:6379/12")
API_WINDOW_SECONDS = 30


class Sink(http.server.ThreadingHTTPServer):
    """The partner's webhook endpoint: answers 200 and counts the events it received."""

    daemon_threads = True

    def __init__(self):
        self.received: set[int] = set()
        self.requests = 0
        super().__init__(("127.0.0.1", 0), SinkHandler)


class SinkHandler(http.server.BaseHTTPRequestHandler):
    server: Sink

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.add(body["id"])
        self.server.requests += 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def start_worker(database_url: str, log_path: Path) -> subprocess.Popen:
    from config.celery import QUEUES, app

    env = {**os.environ, "DATABASE_URL": database_url, "CELERY_BROKER_URL": BROKER_URL, "LOG_LEVEL": "WARNING"}
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "celery"), "-A", "config", "worker", "-n", "soak@%h",
                "-Q", ",".join(QUEUES), "--concurrency", "2", "--without-gossip", "--without-mingle", "-l", "WARNING",
            ],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    for _ in range(150):
        if app.control.ping(timeout=0.5):
            return worker
        if worker.poll() is not None:
            break
    raise SystemExit(f"the Celery worker did not start:\n{log_path.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


class ApiLoad(threading.Thread):
    """api_load.drive (wrk) in back-to-back windows until stopped; keeps every window's figures."""

    def __init__(self, *, port: int, key: str, connections: int, lines, loans):
        super().__init__(daemon=True)
        self.arguments = {"port": port, "key": key, "mix": api_load.MIX, "connections": connections, "lines": lines}
        self.loans, self.windows, self.stopping = loans, [], threading.Event()

    def run(self):
        while not self.stopping.is_set():
            tag = f"soak-{len(self.windows)}"  # idempotency keys stay unique across windows
            self.windows.append(
                api_load.drive(seconds=API_WINDOW_SECONDS, loans=self.loans, run_tag=tag, **self.arguments)
            )

    def totals(self) -> dict:
        requests = sum(window["requests"] for window in self.windows)
        seconds = sum(window["seconds"] for window in self.windows)
        return {
            "windows": len(self.windows),
            "requests": requests,
            "rate": round(requests / seconds, 1) if seconds else 0,
            "refused_4xx": sum(window["errors"] - window["server_errors"] for window in self.windows),
            "server_errors": sum(window["server_errors"] for window in self.windows),
            "worst_window_p99_ms": max((window["p99_ms"] for window in self.windows), default=None),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--borrowers", type=int, default=600)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--api-lines", type=int, default=100, help="the API partner's borrowers (a loan each)")
    parser.add_argument("--api-connections", type=int, default=2, help="wrk's keep-alive connections")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8767)
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ["CELERY_BROKER_URL"] = BROKER_URL  # before Django starts: the closes fan out to the worker
    os.environ["CELERY_RESULT_BACKEND"] = BROKER_URL
    _django.setup(database_url=database_url)

    import redis
    from django.core.management import call_command
    from django.db import connections
    from django.db.models import Count
    from tqdm import tqdm

    from core.business_date import business_date_current, business_date_set
    from core.close import day_close
    from core.models import CloseStepRun
    from lending.models import Partner
    from partners.models import WebhookEvent
    from partners.services import webhook_endpoint_set
    from underwriting.simulator import Simulator

    redis.Redis.from_url(BROKER_URL).flushdb()
    started = time.perf_counter()
    days = round(args.months * 365 / 12)
    # Start in the past, as the simulator does, but before the API partner's loans are made, so that every
    # business date (theirs included) only moves forward; one closed day tells the simulator not to move it back.
    start = business_date_set(new_date=business_date_current() - timedelta(days=days + 1), reason="soak start")
    key, lines, loans = api_load.set_up(args.api_lines)
    sink = Sink()
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    webhook_endpoint_set(
        partner=Partner.objects.get(code="bench"), url=f"http://127.0.0.1:{sink.server_address[1]}/hooks"
    )
    connections.close_all()
    log_path = Path(os.environ.get("SOAK_WORKER_LOG", "/tmp/soak-worker.log"))
    worker = start_worker(database_url, log_path)
    server = api_load.serve(workers=args.gunicorn_workers, threads=1, port=args.port, database_url=database_url)
    load = ApiLoad(port=args.port, key=key, connections=args.api_connections, lines=lines, loans=loans)
    try:
        day_close(business_date=start)
        assert CloseStepRun.objects.exists()
        load.start()
        simulated = time.perf_counter()
        bar = tqdm(unit="day", desc="soak", mininterval=10, file=sys.stderr)

        def progress(done, total):
            bar.total = total
            bar.update(done - bar.n)

        simulator = Simulator(borrowers=args.borrowers, months=args.months, seed=args.seed, progress=progress)
        report = simulator.run()
        bar.close()
        simulated = time.perf_counter() - simulated
        load.stopping.set()
        load.join()
        pending = WebhookEvent.objects.exclude(state=WebhookEvent.State.DELIVERED)
        deadline = time.monotonic() + 300
        while pending.filter(state=WebhookEvent.State.PENDING).exists() and time.monotonic() < deadline:
            time.sleep(1)
    finally:
        load.stopping.set()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        stop(worker)
        sink.shutdown()
    verified = time.perf_counter()
    call_command("verify_ledger")  # raises CommandError naming the first broken link
    verified = time.perf_counter() - verified
    api = load.totals()
    webhooks = dict(WebhookEvent.objects.values_list("state").annotate(n=Count("id")).order_by())
    figures = {
        "machine": _django.machine(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "borrowers": args.borrowers,
        "months": args.months,
        "days_closed": report.days_closed + 1,
        "business_dates": [str(start), str(business_date_current())],
        "simulator": {k: v for k, v in report.__dict__.items() if k in ("approved", "loans", "repayments")},
        "simulated_seconds": round(simulated, 1),
        "api": api,
        "webhooks": {**webhooks, "received_by_partner": len(sink.received), "requests": sink.requests},
        "verify_ledger_seconds": round(verified, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(figures, indent=2, default=str))
    failed = api["server_errors"] or webhooks.get(WebhookEvent.State.PENDING) or webhooks.get(WebhookEvent.State.FAILED)
    print("soak: " + ("FAILED" if failed else "passed: zero server errors, every webhook delivered, ledger verified"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
