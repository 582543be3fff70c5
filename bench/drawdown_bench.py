"""Drawdown + disbursement through the services on PostgreSQL (issue 3 target: ≥ 200 per second).

    .venv/bin/python bench/drawdown_bench.py [--loans 2000] [--lines 200]

Uses its own database, dropped and recreated (BENCH_DATABASE_URL, default lending_bench on 127.0.0.1).
"""

import argparse
import time
from datetime import date, timedelta
from decimal import Decimal

import _django

TARGET = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=200)
    args = parser.parse_args()
    _django.setup()

    from stdnum.cn import ric
    from tqdm import tqdm

    from core.business_date import business_date_current
    from lending.models import Partner, Product
    from lending.services.borrowers import borrower_onboard_person
    from lending.services.credit_lines import credit_line_open
    from lending.services.loans import loan_drawdown

    partner, _ = Partner.objects.get_or_create(code="bench", defaults={"name": "Benchmark partner"})
    product = Product.objects.get(code="revolving-cash-line")
    today = business_date_current()
    lines = []
    for i in tqdm(range(args.lines), desc="set-up lines", unit="line", mininterval=5):
        born = date(1970, 1, 1) + timedelta(days=i // 1000)
        base = f"110101{born:%Y%m%d}{i % 1000:03d}"
        borrower = borrower_onboard_person(
            partner=partner,
            name=f"Bench {i}",
            national_id=base + ric.calc_check_digit(base + "0"),
            mobile="13800138000",
            monthly_income=Decimal("20000"),
            today=today,
        )
        line = credit_line_open(
            borrower=borrower,
            product=product,
            limit=Decimal("200000"),
            daily_rate=Decimal("0.0004"),
            reason="bench",
        )
        lines.append(line)

    started = time.perf_counter()
    for n in tqdm(range(args.loans), desc="drawdown+disburse", unit="loan", mininterval=5):
        line = lines[n % len(lines)]
        loan_drawdown(
            credit_line_id=line.pk, amount=Decimal("1000"), term_months=12, method="equal_installment", disburse=True
        )
    elapsed = time.perf_counter() - started
    rate = args.loans / elapsed
    verdict = "meets" if rate >= TARGET else "MISSES"
    print(f"machine: {_django.machine()}")
    print(
        f"drawdown+disbursement: {args.loans} loans in {elapsed:.1f} s = {rate:.0f}/s ({verdict} the {TARGET}/s target)"
    )


if __name__ == "__main__":
    main()
