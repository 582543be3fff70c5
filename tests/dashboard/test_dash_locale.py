"""Simplified Chinese is complete and compiled; the admin switches language and formats money per locale."""

import gettext
from decimal import Decimal
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import translation

from dashboard.templatetags.dashboard_format import cell, money

LOCALE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_the_catalogue_has_no_untranslated_or_fuzzy_entries():
    po = polib.pofile(str(LOCALE / "django.po"))
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []


def _compiled(mo, entry):
    # An entry with a context is compiled under it: plain gettext would find the context-free one.
    if entry.msgid_plural:
        if entry.msgctxt:
            return mo.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, 1)
        return mo.ngettext(entry.msgid, entry.msgid_plural, 1)
    return mo.pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt else mo.gettext(entry.msgid)


def test_the_compiled_catalogue_matches_the_po_file():
    po = polib.pofile(str(LOCALE / "django.po"))
    with open(LOCALE / "django.mo", "rb") as handle:
        mo = gettext.GNUTranslations(handle)
    stale = [
        e.msgid
        for e in po.translated_entries()
        if _compiled(mo, e) != (e.msgstr_plural[0] if e.msgid_plural else e.msgstr)
    ]
    assert stale == [], "run `make messages` to recompile locale/zh_Hans/LC_MESSAGES/django.mo"


def test_state_labels_and_dashboard_strings_translate():
    from lending.models import Loan

    with translation.override("zh-hans"):
        assert str(Loan.State.OVERDUE.label) == "逾期"
        assert translation.gettext("Portfolio dashboard") == "资产组合看板"


def test_money_is_grouped_with_two_places_in_both_languages():
    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert money(Decimal("1234567.5")) == "1,234,567.50"
            assert cell(Decimal("0.1234")) == "12.34 %"
            assert cell(1234) == "1,234"


@pytest.mark.django_db
def test_the_language_switch_turns_the_admin_chinese(client):
    client.force_login(User.objects.create_superuser("root", password="root-pass-1"))
    page = client.get("/admin/").content.decode()
    assert 'id="language-switch"' in page and 'value="zh-hans"' in page
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/admin/"})
    assert response.status_code == 302
    chinese = client.get("/admin/").content.decode()
    assert "资产组合看板" in chinese and "信贷" in chinese
