"""The SQL floor of lending's close of day D: the same day's work as hand-written set-based statements.

Run in one transaction that the caller rolls back, so the book is unchanged.
What it leaves out compared with the Django close: the history rows of
installments and loans whose state moved, and the per-loan write-off and
residue services (no loan reaches them on the benchmark day).
"""

import time
from collections.abc import Callable
from datetime import date

STATEMENTS = [
    (
        "loans with events (temp)",
        """
        CREATE TEMP TABLE f_events AS
        SELECT DISTINCT i.loan_id
          FROM lending_installment i
          JOIN lending_loan l ON l.id = i.loan_id
         WHERE ((i.state = 'scheduled' AND i.due_date <= %(d)s) OR i.state IN ('due', 'overdue'))
           AND l.state IN ('current', 'overdue')
           AND l.closed_through IS DISTINCT FROM %(d)s
        """,
    ),
    ("analyze temp", "ANALYZE f_events"),
    (
        "lock loans",
        """
        SELECT count(*) FROM (
            SELECT 1 FROM lending_loan WHERE id IN (SELECT loan_id FROM f_events) ORDER BY id FOR UPDATE
        ) locked
        """,
    ),
    (
        "installments fall due",
        """
        CREATE TEMP TABLE f_due AS
        WITH moved AS (
            UPDATE lending_installment i
               SET state = CASE WHEN i.principal + i.interest + i.fee + i.penalty
                                     = i.principal_paid + i.interest_paid + i.fee_paid + i.penalty_paid
                                THEN 'paid' ELSE 'due' END,
                   paid_on = CASE WHEN i.principal + i.interest + i.fee + i.penalty
                                       = i.principal_paid + i.interest_paid + i.fee_paid + i.penalty_paid
                                  THEN %(d)s::date END
              FROM f_events e
             WHERE i.loan_id = e.loan_id AND i.state = 'scheduled' AND i.due_date <= %(d)s
         RETURNING i.loan_id, i.state, i.interest - i.interest_paid AS interest, i.fee - i.fee_paid AS fee
        )
        SELECT loan_id,
               coalesce(sum(interest) FILTER (WHERE state = 'due'), 0) AS interest,
               coalesce(sum(fee) FILTER (WHERE state = 'due'), 0) AS fee
          FROM moved GROUP BY loan_id
        """,
    ),
    (
        "due past grace → overdue",
        """
        UPDATE lending_installment i
           SET state = 'overdue'
          FROM lending_loan l, f_events e
         WHERE l.id = i.loan_id AND e.loan_id = i.loan_id
           AND i.state = 'due' AND i.due_date + l.grace_days < %(d)s
           AND (i.principal + i.interest + i.fee + i.penalty
                - i.principal_paid - i.interest_paid - i.fee_paid - i.penalty_paid) > l.residue_tolerance
        """,
    ),
    (
        "penalty accrual (compute)",
        """
        CREATE TEMP TABLE f_pen AS
        SELECT i.id, i.loan_id, x.exact, round(x.exact, 2) - i.penalty AS increment
          FROM lending_installment i
          JOIN lending_loan l ON l.id = i.loan_id
          JOIN f_events e ON e.loan_id = i.loan_id
         CROSS JOIN LATERAL (
            SELECT round(i.penalty_accrued_exact + (i.principal - i.principal_paid) * l.daily_rate
                         * l.penalty_multiplier * (%(d)s::date - coalesce(i.penalty_accrued_through, i.due_date)),
                         10) AS exact
         ) x
         WHERE i.state = 'overdue' AND i.due_date < %(d)s
           AND coalesce(i.penalty_accrued_through, i.due_date) < %(d)s
        """,
    ),
    (
        "penalty accrual (update)",
        """
        UPDATE lending_installment i
           SET penalty_accrued_exact = f.exact, penalty = round(f.exact, 2), penalty_accrued_through = %(d)s
          FROM f_pen f
         WHERE i.id = f.id
        """,
    ),
    (
        "amounts per loan (temp)",
        """
        CREATE TEMP TABLE f_amount AS
        SELECT loan_id, sum(interest) AS interest, sum(fee) AS fee, sum(penalty) AS penalty
          FROM (SELECT loan_id, interest, fee, 0 AS penalty FROM f_due
                UNION ALL SELECT loan_id, 0, 0, increment FROM f_pen) parts
         GROUP BY loan_id
        HAVING sum(interest) + sum(fee) + sum(penalty) > 0
        """,
    ),
    (
        "lock chain heads",
        """
        SELECT count(*) FROM (
            SELECT 1 FROM ledger_chainhead WHERE chain IN (SELECT 'loan:' || loan_id FROM f_amount)
             ORDER BY chain FOR UPDATE
        ) locked
        """,
    ),
    (
        "post entries + lines, move heads",
        """
        WITH source AS (
            SELECT a.*, h.chain, h.sequence + 1 AS sequence, h.hash AS previous_hash
              FROM f_amount a JOIN ledger_chainhead h ON h.chain = 'loan:' || a.loan_id
        ), entries AS (
            INSERT INTO ledger_journalentry (
                business_date, kind, description, reference, chain, sequence, previous_hash, hash, created_at)
            SELECT %(d)s, 'day_close', '', 'close:' || %(d)s::date, s.chain, s.sequence, s.previous_hash,
                   encode(sha256(convert_to(concat_ws('|', s.chain, s.sequence, s.previous_hash, %(d)s::date,
                                                      s.interest, s.fee, s.penalty), 'UTF8')), 'hex'),
                   now()
              FROM source s
            RETURNING id, chain, sequence, hash
        ), lines AS (
            INSERT INTO ledger_journalline (entry_id, account_id, loan_id, debit, credit)
            SELECT e.id, a.id, s.loan_id, v.debit, v.credit
              FROM entries e
              JOIN source s ON s.chain = e.chain
             CROSS JOIN LATERAL (VALUES
                    ('interest_receivable', s.interest, 0), ('interest_income', 0, s.interest),
                    ('fee_receivable', s.fee, 0), ('fee_income', 0, s.fee),
                    ('penalty_receivable', s.penalty, 0), ('penalty_income', 0, s.penalty)
             ) AS v(code, debit, credit)
              JOIN ledger_account a ON a.code = v.code
             WHERE v.debit + v.credit > 0
        )
        UPDATE ledger_chainhead h SET sequence = e.sequence, hash = e.hash FROM entries e WHERE h.chain = e.chain
        """,
    ),
    (
        "delinquency per loan (temp)",
        """
        CREATE TEMP TABLE f_loan AS
        SELECT l.id, l.dpd_bucket AS old_bucket, o.since, coalesce(%(d)s::date - o.since, 0) AS dpd,
               CASE WHEN o.since IS NULL OR %(d)s::date - o.since <= 0 THEN 'M0'
                    ELSE 'M' || least((%(d)s::date - o.since - 1) / 30 + 1, 7) END AS bucket
          FROM f_events e
          JOIN lending_loan l ON l.id = e.loan_id
          LEFT JOIN (SELECT loan_id, min(due_date) AS since FROM lending_installment
                      WHERE state = 'overdue' AND loan_id IN (SELECT loan_id FROM f_events)
                      GROUP BY loan_id) o ON o.loan_id = l.id
        """,
    ),
    (
        "update loans",
        """
        UPDATE lending_loan l
           SET interest_outstanding = l.interest_outstanding + coalesce(a.interest, 0),
               fee_outstanding = l.fee_outstanding + coalesce(a.fee, 0),
               penalty_outstanding = l.penalty_outstanding + coalesce(a.penalty, 0),
               overdue_since = f.since, dpd_bucket = f.bucket, is_npl = f.dpd > p.npl_dpd,
               state = CASE WHEN f.since IS NOT NULL AND l.state = 'current' THEN 'overdue' ELSE l.state END,
               closed_through = %(d)s
          FROM f_loan f
          LEFT JOIN f_amount a ON a.loan_id = f.id,
               lending_creditline c, lending_product p
         WHERE l.id = f.id AND c.id = l.credit_line_id AND p.id = c.product_id
        """,
    ),
    (
        "bucket changes",
        """
        INSERT INTO lending_loanbucketchange (loan_id, business_date, from_bucket, to_bucket, dpd)
        SELECT id, %(d)s, old_bucket, bucket, dpd FROM f_loan WHERE bucket <> old_bucket
        """,
    ),
    (
        "freeze lines",
        """
        UPDATE lending_creditline c
           SET state = 'frozen', frozen_for_delinquency = true
          FROM lending_loan l, lending_product p
         WHERE l.credit_line_id = c.id AND p.id = c.product_id AND c.state = 'active'
           AND l.state = 'overdue' AND l.overdue_since <= %(d)s::date - p.freeze_dpd
        """,
    ),
    (
        "seal digest",
        """
        SELECT encode(sha256(convert_to(string_agg(hash, '|' ORDER BY id), 'UTF8')), 'hex')
          FROM ledger_journalentry WHERE business_date = %(d)s
        """,
    ),
]


# What the day did, to compare with the Django close: loans, entries, bucket moves, amount posted.
POSTED = """
SELECT (SELECT count(*) FROM f_events), (SELECT count(*) FROM f_amount),
       (SELECT count(*) FROM f_loan WHERE bucket <> old_bucket),
       (SELECT sum(l.debit) FROM ledger_journalline l JOIN ledger_journalentry e ON e.id = l.entry_id
         WHERE e.business_date = %(d)s AND e.kind = 'day_close')
"""


def run(conn, *, business_date: date, say: Callable[[str], None]) -> tuple[float, dict[str, float], dict[str, int]]:
    """Run the floor in a transaction rolled back at the end; return (seconds, seconds per statement, rows)."""
    conn.autocommit = False
    timings: dict[str, float] = {}
    rows: dict[str, int] = {}
    started = time.perf_counter()
    try:
        for name, sql in STATEMENTS:
            step = time.perf_counter()
            cursor = conn.execute(sql, {"d": business_date})
            timings[name] = time.perf_counter() - step
            rows[name] = cursor.rowcount
        elapsed = time.perf_counter() - started
        counts = conn.execute(POSTED, {"d": business_date}).fetchone()
        rows["events"], rows["entries"], rows["bucket moves"], rows["posted"] = counts
    finally:
        conn.rollback()
        conn.autocommit = True
    return elapsed, timings, rows
