"""Every project model is named in Simplified Chinese, so the admin sidebar, titles and breadcrumbs are too."""

import re

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import translation

PROJECT_APPS = [
    "core",
    "ledger",
    "lending",
    "underwriting",
    "collections",
    "insurance",
    "partners",
    "payments",
    "workspace",
    "dashboard",
]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _project_models():
    for label in PROJECT_APPS:
        for model in apps.get_app_config(label).get_models():
            # simple-history derives its models' names from the tracked model's.
            if not model.__name__.startswith("Historical"):
                yield model


def _untranslated(attribute):
    untranslated = []
    for model in _project_models():
        with translation.override("en"):
            english = str(getattr(model._meta, attribute))
        with translation.override("zh-hans"):
            chinese = str(getattr(model._meta, attribute))
        if chinese == english and not CJK.search(chinese):
            untranslated.append(f"{model._meta.label}: {english}")
    return untranslated


@pytest.mark.parametrize("attribute", ["verbose_name", "verbose_name_plural"])
def test_every_project_model_name_is_translated_into_chinese(attribute):
    assert len(list(_project_models())) > 50
    assert _untranslated(attribute) == []


def test_every_project_app_is_named_in_chinese():
    with translation.override("zh-hans"):
        names = {label: str(apps.get_app_config(label).verbose_name) for label in PROJECT_APPS}
    assert [f"{label}: {name}" for label, name in names.items() if not CJK.search(name)] == []


def test_a_model_name_reads_in_chinese_and_stays_english_in_english():
    from lending.models import CreditLine

    with translation.override("zh-hans"):
        assert str(CreditLine._meta.verbose_name_plural) == "授信额度"
    with translation.override("en"):
        assert str(CreditLine._meta.verbose_name_plural) == "credit lines"


@pytest.mark.django_db
def test_the_chinese_admin_names_models_in_the_sidebar_title_and_breadcrumbs(client):
    client.force_login(User.objects.create_superuser("root", password="root-pass-1"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    index = client.get("/admin/").content.decode()
    assert "授信额度" in index and "对账差异" in index and "credit lines" not in index.lower()
    changelist = client.get("/admin/lending/creditline/").content.decode()
    title = re.search(r"<title>(.*?)</title>", changelist, re.S).group(1)
    assert "授信额度" in title
    assert "Credit lines" not in changelist


def _untranslated_field_labels():
    untranslated = []
    for model in _project_models():
        for field in model._meta.get_fields():
            # Reverse relations and Django's own `id` are labelled by Django, not by the project.
            if not field.concrete or field.auto_created:
                continue
            with translation.override("en"):
                english = str(field.verbose_name)
            with translation.override("zh-hans"):
                chinese = str(field.verbose_name)
            if chinese == english and not CJK.search(chinese):
                untranslated.append(f"{model._meta.label}.{field.name}: {english}")
    return untranslated


def test_every_project_field_is_labelled_in_chinese():
    assert _untranslated_field_labels() == []


# Delinquency buckets are industry codes, written M0–M7 in Chinese back offices too.
BUCKET_CODE = re.compile(r"^M[0-9]$")


def _untranslated_choice_labels():
    untranslated = []
    for model in _project_models():
        for field in model._meta.concrete_fields:
            with translation.override("zh-hans"):
                labels = [(value, str(label)) for value, label in field.flatchoices]
            untranslated += [
                f"{model._meta.label}.{field.name}: {label}"
                for value, label in labels
                if not CJK.search(label) and not BUCKET_CODE.match(label)
            ]
    return untranslated


def test_every_project_choice_label_reads_in_chinese():
    assert _untranslated_choice_labels() == []


def test_every_repayment_method_has_a_label():
    from lending.models import METHOD_CHOICES
    from lending.schedules import RepaymentMethod

    assert [value for value, _ in METHOD_CHOICES] == [method.value for method in RepaymentMethod]
    with translation.override("zh-hans"):
        assert dict(METHOD_CHOICES)["equal_installment"] == "等额本息"


def test_a_field_label_reads_in_chinese_and_stays_english_in_english():
    from lending.models import CreditLine, Loan

    with translation.override("zh-hans"):
        assert str(Loan._meta.get_field("principal").verbose_name) == "本金"
        assert str(CreditLine._meta.get_field("valid_from").verbose_name) == "生效日期"
    with translation.override("en"):
        assert str(Loan._meta.get_field("principal").verbose_name) == "principal"
        assert str(CreditLine._meta.get_field("valid_from").verbose_name) == "valid from"


@pytest.mark.django_db
def test_the_changelist_column_headers_follow_the_language(client):
    client.force_login(User.objects.create_superuser("root", password="root-pass-1"))
    # The product the migrations create gives the list a row, so it has a header.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    chinese = client.get("/admin/lending/product/").content.decode()
    assert "默认日利率" in chinese and "年化利率上限" in chinese
    assert "Default daily rate" not in chinese
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get("/admin/lending/product/").content.decode()
    assert "Default daily rate" in english and "Apr cap" in english
