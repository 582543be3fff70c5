"""On PostgreSQL the database itself keeps the ledger append-only and balanced.

SQLite relies on the code's guards (ledger.models.AppendOnlyModel and the
posting service); its test runner empties tables with DELETE, which a
trigger would refuse.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER journalentry_append_only BEFORE UPDATE OR DELETE ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER journalline_append_only BEFORE UPDATE OR DELETE ON ledger_journalline
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER dayseal_append_only BEFORE UPDATE OR DELETE ON ledger_dayseal
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

-- Checked per INSERT statement over the entries it touched: the posting
-- service inserts all lines of its entries in one statement, so every entry
-- is complete when the statement ends, and adding lines later to an old
-- entry is caught too.
CREATE FUNCTION ledger_check_balanced() RETURNS trigger AS $$
DECLARE
    unbalanced bigint;
BEGIN
    -- Driven from the inserted entries, one index probe each: a plain
    -- IN (…) plan is cached for the session from the first (large) insert
    -- and would then scan the whole index on every later insert.
    SELECT touched.entry_id INTO unbalanced
      FROM (SELECT DISTINCT entry_id FROM inserted_lines) touched
     CROSS JOIN LATERAL (
           SELECT SUM(line.debit) AS debits, SUM(line.credit) AS credits, COUNT(*) AS lines
             FROM ledger_journalline line
            WHERE line.entry_id = touched.entry_id
           ) totals
     WHERE totals.debits <> totals.credits OR totals.lines < 2
     LIMIT 1;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'journal entry % is not balanced or has fewer than two lines', unbalanced
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER journalline_balanced AFTER INSERT ON ledger_journalline
    REFERENCING NEW TABLE AS inserted_lines
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_balanced();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS journalline_balanced ON ledger_journalline;
DROP FUNCTION IF EXISTS ledger_check_balanced();
DROP TRIGGER IF EXISTS dayseal_append_only ON ledger_dayseal;
DROP TRIGGER IF EXISTS journalline_append_only ON ledger_journalline;
DROP TRIGGER IF EXISTS journalentry_append_only ON ledger_journalentry;
DROP FUNCTION IF EXISTS ledger_refuse_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_chart_of_accounts")]
    operations = [migrations.RunPython(forward, backward)]
