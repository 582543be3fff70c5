"""rows_insert and rows_update write exactly the values given, whatever the text, number, date or null,
on PostgreSQL (arrays written as text) as on SQLite (Django's bulk methods)."""

from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.bulk import rows_insert, rows_update
from core.models import CloseStepRun
from ledger.models import Account

pytestmark = pytest.mark.django_db

# PostgreSQL text cannot hold NUL; everything else, quotes, backslashes, braces, commas and "NULL" included.
names = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]), max_size=120)
TRICKY = ['a "quoted" name', "back\\slash\\", "{braces}, commas", "NULL", "", "  spaced  ", "中文 名称", "'single'"]


def test_rows_insert_returns_the_new_ids_in_row_order_and_stores_each_value():
    rows = [(f"bulk-{i}", name, Account.Kind.ASSET) for i, name in enumerate(TRICKY)]

    ids = rows_insert(Account, ["code", "name", "kind"], rows)

    assert ids == sorted(ids) and len(set(ids)) == len(rows)
    stored = dict(Account.objects.filter(pk__in=ids).values_list("pk", "name"))
    assert [stored[pk] for pk in ids] == TRICKY


def test_rows_insert_of_nothing_writes_nothing():
    assert rows_insert(Account, ["code", "name", "kind"], []) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(new_names=st.lists(names, min_size=1, max_size=8))
def test_rows_update_writes_any_text_back_exactly(new_names):
    ids = rows_insert(Account, ["code", "name", "kind"], [(f"upd-{i}", "x", "asset") for i in range(len(new_names))])
    accounts = list(Account.objects.filter(pk__in=ids).order_by("pk"))
    for account, name in zip(accounts, new_names, strict=True):
        account.name = name

    rows_update(Account, accounts, ["name"])

    assert list(Account.objects.filter(pk__in=ids).order_by("pk").values_list("name", flat=True)) == new_names
    Account.objects.filter(pk__in=ids).delete()


def test_rows_update_writes_dates_numbers_nulls_and_json_and_only_the_fields_named():
    started = datetime(2026, 1, 15, 23, 59, 59, 999999, tzinfo=UTC)
    runs = [
        CloseStepRun.objects.create(business_date=date(2026, 1, day), step=f"s{day}", started_at=started)
        for day in (1, 2)
    ]
    runs[0].attempts, runs[0].finished_at, runs[0].detail = 7, started, {"loans": 3, "note": 'a "b"'}
    runs[1].attempts, runs[1].finished_at, runs[1].detail = 0, None, {}
    runs[0].step = runs[1].step = "not written"

    rows_update(CloseStepRun, runs, ["attempts", "finished_at", "detail"])

    stored = list(
        CloseStepRun.objects.filter(pk__in=[run.pk for run in runs])
        .order_by("business_date")
        .values_list("step", "attempts", "finished_at", "detail")
    )
    assert stored == [("s1", 7, started, {"loans": 3, "note": 'a "b"'}), ("s2", 0, None, {})]
