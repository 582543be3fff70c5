"""Risk staff in a real browser: each role sees its menus, the dashboard charts and its two-click path to a
delinquent loan, Chinese after the switch, a collector's call, a claim approval and a manual-review approval."""

import re

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from debt_collection.models import ContactAttempt
from insurance.models import InsuranceClaim
from underwriting.models import Application

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ANALYST = ["dashboard.view_dashboard", "lending.view_loan", "lending.view_installment", "lending.view_repayment"]


def test_an_analyst_sees_the_charts_and_opens_a_delinquent_loan_in_two_clicks(page, live_server, login, scenario, shot):
    login("analyst", perms=ANALYST)
    expect(page.locator("#content-main")).to_contain_text("Lending")
    expect(page.locator("#content-main")).not_to_contain_text("Insurance")
    page.click("#dashboard-link")
    expect(page.locator("h1")).to_have_text("Portfolio dashboard")
    assert page.locator("svg.chart").count() >= 6
    expect(page.locator("#section-buckets svg.chart")).to_be_visible()
    assert page.locator("#section-buckets svg a").count() == 8  # every bucket bar links to its loans
    shot("dashboard-en")

    page.click("#section-buckets td a:text-is('M1')")  # click 1: the bucket
    page.click(f"a:text-is('{scenario['loan'].number}')")  # click 2: the loan
    expect(page.locator("h1")).to_contain_text("View loan")
    expect(page.locator("#content")).to_contain_text(scenario["loan"].number)
    shot("delinquent-loan")


def test_switching_to_chinese_turns_the_admin_and_the_dashboard_chinese(page, live_server, login, scenario, shot):
    login("analyst.zh", perms=ANALYST)
    page.select_option("#language-select", "zh-hans")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#content-main")).to_contain_text("信贷")
    page.click("#dashboard-link")
    expect(page.locator("h1")).to_have_text("资产组合看板")
    expect(page.locator("#summary")).to_contain_text("不良贷款率")
    shot("dashboard-zh-hans")


def test_a_collector_logs_a_call_on_the_workbench(page, live_server, login, scenario, shot):
    collector = scenario["collector"]
    collector.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_collectioncase", "change_collectioncase"])
    )
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", collector.username)
    page.fill("#id_password", "browser-pass-1")
    page.click("input[type=submit]")
    expect(page.locator("#content-main")).not_to_contain_text("Portfolio dashboard")
    page.goto(f"{live_server.url}/admin/collections/collectioncase/{scenario['case'].pk}/change/")
    page.click("button:text-is('Call: no answer')")
    expect(page.locator(".messagelist")).to_contain_text("Attempt logged.")
    shot("collector-workbench")
    assert ContactAttempt.objects.filter(case=scenario["case"], channel="call", outcome="no_answer").count() == 1


def test_a_claims_officer_approves_a_claim(page, live_server, login, scenario, shot):
    login("claims.officer", perms=["insurance.view_insuranceclaim", "insurance.change_insuranceclaim"])
    expect(page.locator("#content-main")).not_to_contain_text("Underwriting")
    claim = scenario["claim"]
    page.goto(f"{live_server.url}/admin/insurance/insuranceclaim/{claim.pk}/change/")
    page.click("button[name=transition][value=approve]")
    expect(page.locator(".messagelist")).to_contain_text("approved")
    shot("claim-approved")
    claim.refresh_from_db()
    assert claim.state == InsuranceClaim.State.APPROVED


def test_an_underwriter_approves_an_application_in_manual_review(page, live_server, login, scenario, shot):
    login("underwriter", perms=["underwriting.view_application", "underwriting.add_applicationreview"])
    application = scenario["application"]
    page.goto(f"{live_server.url}/admin/underwriting/application/{application.pk}/change/")
    page.fill("#review-notes", "Income verified by phone; bank statements consistent.")
    shot("manual-review")
    page.click("#review-form button[value=approve]")
    expect(page.locator(".messagelist")).to_contain_text(re.compile("approved"))
    application.refresh_from_db()
    assert application.state == Application.State.APPROVED
