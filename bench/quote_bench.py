"""Quote throughput: repayment schedule + all-in APR for 12-month loans, in one process.

Usage: .venv/bin/python bench/quote_bench.py [--seconds N]

The target is 5,000 quotes a second. The verdict uses quotes per CPU-second of
this process, so other processes competing for the CPU (see the load average
printed) do not decide it; the wall-clock rate is printed alongside. The script
exits 1 when the target is missed so scripts can gate on it.
"""

import argparse
import os
import platform
import random
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from lending.apr import apr_for_schedule
from lending.schedules import RepaymentMethod, schedule_for_new_loan

TARGET_QUOTES_PER_SECOND = 5_000
TERM_MONTHS = 12
QUOTE_MIX_SIZE = 1_000
# Product ranges from DOMAIN.md: drawdowns of 500-200,000 in hundreds, 0.02-0.06 %/day,
# premium none or 0.25 %/month; start dates over a whole year to hit month ends.
DAILY_RATES = [Decimal(basis) / Decimal(1_000_000) for basis in range(200, 601, 25)]
MONTHLY_FEE_RATES = [Decimal("0"), Decimal("0.0025")]


def quote_mix(*, size: int, seed: int = 20260115) -> list[dict]:
    """A fixed, reproducible mix of quote requests covering every repayment method."""
    rng = random.Random(seed)
    first_day = date(2026, 1, 1)
    return [
        {
            "principal": Decimal(rng.randrange(5, 2_001) * 100),
            "daily_rate": rng.choice(DAILY_RATES),
            "method": list(RepaymentMethod)[index % len(RepaymentMethod)],
            "start_date": first_day + timedelta(days=rng.randrange(365)),
            "monthly_fee_rate": rng.choice(MONTHLY_FEE_RATES),
        }
        for index in range(size)
    ]


def quote(request: dict) -> None:
    lines = schedule_for_new_loan(term_months=TERM_MONTHS, **request)
    apr_for_schedule(principal=request["principal"], lines=lines)


@dataclass(frozen=True)
class Measurement:
    quotes: int
    wall_seconds: float
    cpu_seconds: float


def measure(*, requests: list[dict], seconds: float) -> Measurement:
    quotes = 0
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    deadline = wall_start + seconds
    while time.perf_counter() < deadline:
        for request in requests:
            quote(request)
        quotes += len(requests)
    return Measurement(
        quotes=quotes,
        wall_seconds=time.perf_counter() - wall_start,
        cpu_seconds=time.process_time() - cpu_start,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to measure (default 5)")
    args = parser.parse_args()

    requests = quote_mix(size=QUOTE_MIX_SIZE)
    measure(requests=requests[:100], seconds=0.2)  # warm caches before measuring
    result = measure(requests=requests, seconds=args.seconds)
    per_cpu_second = result.quotes / result.cpu_seconds
    per_wall_second = result.quotes / result.wall_seconds

    load = ", ".join(f"{figure:.2f}" for figure in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, load average {load}")
    print(
        f"{result.quotes:,} quotes in {result.wall_seconds:.1f} s: {per_cpu_second:,.0f} per CPU-second, "
        f"{per_wall_second:,.0f} per wall-clock second"
    )
    met = per_cpu_second >= TARGET_QUOTES_PER_SECOND
    verdict, comparison = ("PASS", "meets") if met else ("FAIL", "misses")
    print(f"{verdict}: {per_cpu_second:,.0f} quotes/s {comparison} the {TARGET_QUOTES_PER_SECOND:,}/s target")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
