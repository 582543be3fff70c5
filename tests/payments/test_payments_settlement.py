"""Settlement reconciliation: every planted break in a generated file is found; nothing is posted;
resolving a break is recorded."""

import random
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from core.errors import DomainError
from ledger.models import JournalEntry
from payments.gateways.base import SettlementLine, settlement_csv_render
from payments.models import Disbursement, SettlementBreak, SettlementReport
from payments.services.settlement import settlement_break_resolve, settlement_reconcile


@pytest.fixture
def confirmed(world):
    """Six loans paid out today through the simulated gateway."""
    for amount in ("1000", "1500", "2000", "2500", "3000", "3500"):
        assert world.draw(amount).status_code == 201
    rows = list(Disbursement.objects.filter(state="confirmed").order_by("pk"))
    assert len(rows) == 6
    return rows


def _file(rows) -> list[SettlementLine]:
    return [SettlementLine(row.reference, row.amount, row.gateway_reference) for row in rows]


def test_a_clean_file_matches_every_line(confirmed):
    report = settlement_reconcile(gateway="simulated", on_date=confirmed[0].value_date, lines=_file(confirmed))
    assert (report.lines_in_file, report.matched, report.breaks) == (6, 6, 0)


@pytest.mark.parametrize("seed", range(5))
def test_every_planted_break_is_found_and_nothing_is_posted(confirmed, seed):
    chooser = random.Random(seed)
    lines = _file(confirmed)
    missing_theirs = chooser.sample(range(6), 2)
    wrong = chooser.choice([index for index in range(6) if index not in missing_theirs])
    lines[wrong] = SettlementLine(lines[wrong].reference, lines[wrong].amount + Decimal("0.01"))
    extra = [SettlementLine(f"DEXTRA{seed}{n}", Decimal("99.00")) for n in range(chooser.randint(1, 3))]
    planted_file = [line for index, line in enumerate(lines) if index not in missing_theirs] + extra
    chooser.shuffle(planted_file)
    entries = JournalEntry.objects.count()

    report = settlement_reconcile(gateway="simulated", on_date=confirmed[0].value_date, lines=planted_file)

    found = {(row.kind, row.reference) for row in report.break_rows.all()}
    expected = {("missing_theirs", confirmed[index].reference) for index in missing_theirs}
    expected |= {("amount_mismatch", confirmed[wrong].reference)}
    expected |= {("missing_ours", line.reference) for line in extra}
    assert found == expected
    assert report.matched == 6 - len(missing_theirs) - 1
    assert JournalEntry.objects.count() == entries


def test_a_reference_listed_twice_is_a_break(confirmed):
    lines = _file(confirmed) + _file(confirmed[:1])
    report = settlement_reconcile(gateway="simulated", on_date=confirmed[0].value_date, lines=lines)
    assert list(report.break_rows.values_list("kind", "reference")) == [("missing_ours", confirmed[0].reference)]


def test_a_date_is_reconciled_once(confirmed):
    settlement_reconcile(gateway="simulated", on_date=confirmed[0].value_date, lines=[])
    with pytest.raises(DomainError, match="already reconciled"):
        settlement_reconcile(gateway="simulated", on_date=confirmed[0].value_date, lines=[])


def test_resolving_a_break_records_who_when_and_what(confirmed):
    report = settlement_reconcile(gateway="simulated", on_date=confirmed[0].value_date, lines=[])
    row = report.break_rows.first()
    user = get_user_model().objects.create_user("finance", password="x")
    resolved = settlement_break_resolve(break_id=row.pk, resolution="gateway file re-sent", actor=user)
    assert (resolved.resolved_by, resolved.resolution) == (user, "gateway file re-sent")
    assert resolved.history.first().history_change_reason.startswith("resolved")
    with pytest.raises(DomainError, match="already resolved"):
        settlement_break_resolve(break_id=row.pk, resolution="again", actor=user)
    with pytest.raises(DomainError):
        settlement_break_resolve(break_id=report.break_rows.last().pk, resolution="  ", actor=user)


def test_the_command_reads_the_gateways_file(confirmed, settings, tmp_path, capsys):
    settings.PAYMENTS_SETTLEMENT_DIR = str(tmp_path)
    day = confirmed[0].value_date
    (tmp_path / "simulated").mkdir()
    (tmp_path / "simulated" / f"{day}.csv").write_text(settlement_csv_render(_file(confirmed[1:])))
    call_command("reconcile_settlement", "--gateway", "simulated", "--date", day.isoformat())
    output = capsys.readouterr().out
    assert "5 matched, 1 breaks" in output and confirmed[0].reference in output
    assert SettlementBreak.objects.get().kind == "missing_theirs"
    assert SettlementReport.objects.count() == 1
