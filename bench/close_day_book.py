"""A synthetic loan book written straight into PostgreSQL with set-based SQL (for close_day_bench.py).

Loan i (ids 1…N; borrower, credit line, loan and disbursement entry all use id i):
- principal 1,000–20,000 in steps of 100, daily rate 0.0003–0.0006, 12 monthly
  installments with equal principal parts (method equal_principal), interest on
  the declining balance for the days of each period;
- it falls due on day 1 + (i mod 31) of each month (clamped to the month's
  end), so about 1/30 of the book has an installment due on any day; 0–11
  installments lie before D (paid);
- about 3 % of the others pay late: the installment due on D − 1 is unpaid
  (due), and goes overdue at the close of D;
- about 3 % of the loans are delinquent: their last 1–6 past installments with
  a due date within 179 days are unpaid, overdue (penalty accrued through D − 1)
  or, for one due on D − 1, due; the loan is overdue, overdue_since, DPD bucket
  and NPL flag are as the close of D − 1 left them, and their lines are frozen;
- every loan has its disbursement entry (2 lines) and its ledger chain head.
The load drops the secondary indexes of the big tables and recreates them as they were, and skips
per-row foreign-key checks and triggers (session_replication_role = replica, as pg_restore does).
Everything is as the close of D − 1 left it (closed_through = D − 1) and the
open business date is D. Encrypted and masked PII columns hold placeholders.
"""

import time
from collections.abc import Callable
from datetime import date

BATCH = 100_000
COMPONENT_ORDER = '["penalty", "fee", "interest", "principal"]'

# One row per loan: the loan's parameters, derived from i alone. Installment `current` is the one due in
# D's month, on day `dom` of the month (clamped to the month's end, as a loan disbursed on the 31st is).
PARAMS = """
CREATE TEMP TABLE close_day_params AS
SELECT g.i,
       x.delinquent,
       NOT x.delinquent AND mod(x.h / 700, 100) < 3 AS late,
       (1 + mod(x.h / 100, 6))::int AS months_unpaid,
       (1 + mod(g.i, 31))::int AS dom,
       (CASE WHEN x.delinquent THEN greatest(1 + mod(g.i / 31, 12), 2 + mod(x.h / 100, 6))
             ELSE 1 + mod(g.i / 31, 12) END)::int AS current,
       (1000 + mod(x.h / 1000, 191) * 100)::numeric(18, 2) AS principal,
       (0.0003 + mod(g.i, 4) * 0.0001)::numeric(12, 8) AS rate
  FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g(i),
       LATERAL (SELECT h, mod(h, 100) < 3 AS delinquent
                  FROM (SELECT mod(g.i * 2654435761, 4294967296) AS h) hh) x
"""

# The first day and length of the months around D's (installment dates are day `dom` of them).
MONTHS = """
CREATE TEMP TABLE close_day_months AS
SELECT k AS offset_months, first_day, extract(day FROM first_day + interval '1 month - 1 day')::int AS days
  FROM generate_series(-13, 13) AS k,
       LATERAL (SELECT (%(month)s::date + make_interval(months => k))::date AS first_day) f
"""

# Installments before D are paid, except: a delinquent loan's last 1–6 months of them within 179 days
# (overdue, penalty accrued through D − 1; one due on D − 1 is only due), and a late payer's one due on
# D − 1 (due: it goes overdue at the close of D).
INSTALLMENTS = """
INSERT INTO lending_installment (
    loan_id, number, start_date, due_date, state, principal, interest, fee, penalty,
    principal_paid, interest_paid, fee_paid, penalty_paid, accrual_start, interest_settled,
    penalty_accrued_exact, penalty_accrued_through, paid_on)
SELECT p.i, n, s.start_date, s.due_date, s.state, s.principal, s.interest, 0, s.penalty,
       CASE WHEN s.state = 'paid' THEN s.principal ELSE 0 END,
       CASE WHEN s.state = 'paid' THEN s.interest ELSE 0 END,
       0, 0, s.start_date, 0,
       s.penalty_exact,
       CASE WHEN s.state = 'overdue' THEN %(d)s::date - 1 END,
       CASE WHEN s.state = 'paid' THEN s.due_date END
  FROM close_day_params p
 CROSS JOIN generate_series(1, 12) AS n
  JOIN close_day_months sm ON sm.offset_months = n - p.current - 1
  JOIN close_day_months dm ON dm.offset_months = n - p.current
 CROSS JOIN LATERAL (
    SELECT sm.first_day + least(p.dom, sm.days) - 1 AS start_date,
           dm.first_day + least(p.dom, dm.days) - 1 AS due_date,
           round(p.principal / 12, 2) AS part
 ) dd
 CROSS JOIN LATERAL (
    SELECT CASE
               WHEN dd.due_date >= %(d)s::date THEN 'scheduled'
               WHEN p.delinquent AND dd.due_date >= %(d)s::date - least(31 * p.months_unpaid, 179)
                   THEN CASE WHEN dd.due_date <= %(d)s::date - 2 THEN 'overdue' ELSE 'due' END
               WHEN p.late AND dd.due_date = %(d)s::date - 1 THEN 'due'
               ELSE 'paid'
           END AS state,
           CASE WHEN n = 12 THEN p.principal - 11 * dd.part ELSE dd.part END AS principal,
           round((p.principal - (n - 1) * dd.part) * p.rate * (dd.due_date - dd.start_date), 2) AS interest
 ) st
 CROSS JOIN LATERAL (
    SELECT st.state, dd.start_date, dd.due_date, st.principal, st.interest,
           CASE WHEN st.state = 'overdue'
                THEN round(st.principal * p.rate * 1.5 * (%(d)s::date - 1 - dd.due_date), 10) ELSE 0 END
               AS penalty_exact,
           CASE WHEN st.state = 'overdue'
                THEN round(round(st.principal * p.rate * 1.5 * (%(d)s::date - 1 - dd.due_date), 10), 2) ELSE 0 END
               AS penalty
 ) s
 ORDER BY p.i, n
"""

BORROWERS = """
INSERT INTO lending_borrower (
    id, partner_id, kind, name, national_id_encrypted, national_id_hash, national_id_masked, date_of_birth,
    monthly_income, mobile_encrypted, mobile_hash, mobile_masked, credit_code_encrypted, credit_code_hash,
    credit_code_masked, legal_representative, business_type, external_reference, created_at)
SELECT p.i, %(partner)s, 'person', 'Bench borrower ' || p.i, 'placeholder', md5(p.i::text),
       '110101********' || lpad(mod(p.i, 10000)::text, 4, '0'), date '1970-01-01' + mod(p.i, 15000)::int, 20000,
       'placeholder', md5('mobile' || p.i), '138****' || lpad(mod(p.i, 10000)::text, 4, '0'), '', '', '', '', '', '',
       now()
  FROM close_day_params p
"""

# Balances, state and delinquency of each loan from its installments (as the close of D − 1 left them).
LOANS = """
INSERT INTO lending_loan (
    id, number, credit_line_id, state, principal, term_months, method, daily_rate, monthly_fee_rate,
    nominal_apr, effective_apr, requested_on, disbursed_on, idempotency_key, penalty_multiplier, grace_days,
    allocation, component_order, prepayment, residue_tolerance, closed_through, overdue_since, dpd_bucket, is_npl,
    principal_outstanding, interest_outstanding, fee_outstanding, penalty_outstanding, created_at)
SELECT p.i, 'B' || lpad(p.i::text, 10, '0'), p.i,
       CASE WHEN a.overdue_since IS NULL THEN 'current' ELSE 'overdue' END,
       p.principal, 12, 'equal_principal', p.rate, 0, p.rate * 365, round(p.rate * 365 * 1.07, 8),
       a.disbursed_on, a.disbursed_on, '', 1.5, 0, 'by_installment', %(order)s::jsonb, 'keep_term', 1.00,
       %(d)s::date - 1, a.overdue_since,
       CASE WHEN a.overdue_since IS NULL THEN 'M0'
            ELSE 'M' || least((%(d)s::date - 1 - a.overdue_since - 1) / 30 + 1, 7) END,
       coalesce(%(d)s::date - 1 - a.overdue_since > 90, false),
       a.principal_outstanding, a.interest_outstanding, 0, a.penalty_outstanding, a.disbursed_on::timestamptz
  FROM close_day_params p
  JOIN (SELECT loan_id,
               min(start_date) AS disbursed_on,
               min(due_date) FILTER (WHERE state = 'overdue') AS overdue_since,
               sum(principal - principal_paid) AS principal_outstanding,
               coalesce(sum(interest) FILTER (WHERE state IN ('due', 'overdue')), 0) AS interest_outstanding,
               sum(penalty) AS penalty_outstanding
          FROM lending_installment
         WHERE loan_id BETWEEN %(first)s AND %(last)s
         GROUP BY loan_id) a ON a.loan_id = p.i
"""

LINES = """
INSERT INTO lending_creditline (
    id, borrower_id, product_id, state, "limit", daily_rate, used, valid_from, valid_until, frozen_for_delinquency,
    created_at)
SELECT l.id, l.id, %(product)s, CASE WHEN l.state = 'overdue' THEN 'frozen' ELSE 'active' END, 200000,
       l.daily_rate, l.principal_outstanding, l.disbursed_on, l.disbursed_on + 1095, l.state = 'overdue',
       l.created_at
  FROM lending_loan l
 WHERE l.id BETWEEN %(first)s AND %(last)s
"""

ENTRIES = """
INSERT INTO ledger_journalentry (
    id, business_date, kind, description, reference, chain, sequence, previous_hash, hash, created_at)
SELECT l.id, l.disbursed_on, 'disbursement', '', l.number, 'loan:' || l.id, 1, repeat('0', 64),
       encode(sha256(convert_to('disbursement|' || l.id || '|' || l.principal, 'UTF8')), 'hex'), l.created_at
  FROM lending_loan l
 WHERE l.id BETWEEN %(first)s AND %(last)s
"""

JOURNAL_LINES = """
INSERT INTO ledger_journalline (entry_id, account_id, loan_id, debit, credit)
SELECT l.id, a.id, l.id, CASE WHEN a.code = 'cash' THEN 0 ELSE l.principal END,
       CASE WHEN a.code = 'cash' THEN l.principal ELSE 0 END
  FROM lending_loan l
  JOIN ledger_account a ON a.code IN ('principal_receivable', 'cash')
 WHERE l.id BETWEEN %(first)s AND %(last)s
"""

HEADS = """
INSERT INTO ledger_chainhead (chain, sequence, hash)
SELECT chain, sequence, hash FROM ledger_journalentry WHERE id BETWEEN %(first)s AND %(last)s
"""

SEQUENCES = ["lending_borrower", "lending_creditline", "lending_loan", "ledger_journalentry"]
BIG_TABLES = [
    "lending_borrower", "lending_creditline", "lending_loan", "lending_installment",
    "ledger_journalentry", "ledger_journalline",
]  # fmt: skip

# Indexes not backing a primary key or unique constraint: dropped for the load, recreated as they were.
SECONDARY_INDEXES = """
SELECT i.indexname, i.indexdef
  FROM pg_indexes i
 WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
   AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                    WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)
"""


def build(conn, *, loans: int, business_date: date, say: Callable[[str], None]) -> float:
    """Write the book of `loans` loans into the (migrated, empty) database; return the seconds it took."""
    started = time.perf_counter()
    conn.autocommit = True
    conn.execute("SET synchronous_commit = off")
    conn.execute("SET jit = off")
    conn.execute("SET work_mem = '256MB'")
    conn.execute("SET maintenance_work_mem = '512MB'")
    partner = conn.execute(
        "INSERT INTO lending_partner (code, name, is_active) VALUES ('bench', 'Benchmark partner', true) RETURNING id"
    ).fetchone()[0]
    product = conn.execute("SELECT id FROM lending_product WHERE code = 'revolving-cash-line'").fetchone()[0]
    conn.execute(MONTHS, {"month": business_date.replace(day=1)})
    indexes = conn.execute(SECONDARY_INDEXES, [BIG_TABLES]).fetchall()
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    say(f"  {len(indexes)} secondary indexes dropped for the load")
    # A bulk load of rows generated consistent: skip the per-row foreign-key checks and ledger triggers,
    # as pg_restore --disable-triggers does (this session only).
    conn.execute("SET session_replication_role = replica")
    timings: dict[str, float] = {}
    for first in range(1, loans + 1, BATCH):
        last = min(first + BATCH - 1, loans)
        args = {
            "d": business_date,
            "month": business_date.replace(day=1),
            "first": first,
            "last": last,
            "partner": partner,
            "product": product,
            "order": COMPONENT_ORDER,
        }
        with conn.transaction():
            conn.execute("DROP TABLE IF EXISTS close_day_params")
            for name, sql in [
                ("params", PARAMS),
                ("borrowers", BORROWERS),
                ("installments", INSTALLMENTS),
                ("loans", LOANS),
                ("credit lines", LINES),
                ("journal entries", ENTRIES),
                ("journal lines", JOURNAL_LINES),
                ("chain heads", HEADS),
            ]:
                step = time.perf_counter()
                conn.execute(sql, args)
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - step
        say(f"  loans {first:,}–{last:,} written")
    say("  per table: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items()))
    conn.execute("SET session_replication_role = DEFAULT")
    step = time.perf_counter()
    for _, definition in indexes:
        conn.execute(definition)
    say(f"  {len(indexes)} secondary indexes recreated in {time.perf_counter() - step:.1f} s")
    for table in SEQUENCES:
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    conn.execute('UPDATE core_businesscalendar SET "current_date" = %s', [business_date])
    say(f"  book written in {time.perf_counter() - started:.1f} s; VACUUM ANALYZE …")
    conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def summary(conn, business_date: date) -> dict:
    """What the book holds, and how many loans have something happening on `business_date`."""
    row = conn.execute(
        """
        SELECT (SELECT count(*) FROM lending_loan),
               (SELECT count(*) FROM lending_loan WHERE state = 'overdue'),
               (SELECT count(*) FROM lending_installment),
               (SELECT count(DISTINCT loan_id) FROM lending_installment
                 WHERE state = 'scheduled' AND due_date <= %(d)s),
               (SELECT count(DISTINCT loan_id) FROM lending_installment WHERE state IN ('due', 'overdue')),
               (SELECT string_agg(dpd_bucket || ':' || n, ' ' ORDER BY dpd_bucket)
                  FROM (SELECT dpd_bucket, count(*) n FROM lending_loan GROUP BY dpd_bucket) b),
               pg_size_pretty(pg_database_size(current_database()))
        """,
        {"d": business_date},
    ).fetchone()
    keys = ["loans", "overdue_loans", "installments", "falling_due", "due_or_overdue", "buckets", "db_size"]
    return dict(zip(keys, row, strict=True))
