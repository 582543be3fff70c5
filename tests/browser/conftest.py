"""Browser tests in headless Chromium (Playwright over the system /usr/bin/chromium) against a live server.

Without Chromium they skip with the reason shown, except in CI (CI=true), where they fail: the CI
machine installs it (`make test` runs `make browser-deps`). Screenshots go to tests/artifacts/.
"""

import itertools
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone
from stdnum.cn import ric

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
START = date(2031, 1, 15)
FIRST_DUE = date(2031, 2, 15)
PASSWORD = "browser-pass-1"
# TESTING.md's verified flags for Chromium as root in a container.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]  # fmt: skip

_ids = itertools.count(1)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Browser tests after every other test (after pytest-django's own ordering too): see orm_beside_playwright."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session", autouse=True)
def chromium_present():
    """Skip (with the reason in the summary) without Chromium, except in CI, where that is a failure."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver (make browser-deps)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def orm_beside_playwright():
    """Playwright's sync API runs an event loop in this thread, so Django refuses ORM calls from the test
    unless told otherwise. The loop lives as long as the session, so the browser tests run last (below) and
    no other test, nor a subprocess one starts (`check --deploy` flags the variable), inherits it."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_FLAGS}


@pytest.fixture
def shot(page):
    """Save a full-page screenshot of the current screen under tests/artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str) -> None:
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return take


@pytest.fixture
def login(page, live_server):
    """Log in through the admin login form as a new staff user with exactly these permissions and groups."""

    def as_user(username: str, *, perms: list[str] = (), groups: list[str] = ()) -> User:
        user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        for group in groups:
            user.groups.add(Group.objects.get(name=group))
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/admin/login/?next=/admin/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")
        return user

    return as_user


def _borrower(partner, today: date):
    from lending.services.borrowers import borrower_onboard_person

    serial = next(_ids)
    first_17 = f"11010119870101{serial % 1000:03d}"
    return borrower_onboard_person(
        partner=partner,
        name=f"Browser Borrower {serial}",
        national_id=first_17 + ric.calc_check_digit(first_17 + "0"),
        mobile=f"1361234{serial % 10000:04d}",
        monthly_income=Decimal("12000"),
        today=today,
    )


def daytime_zone(now: datetime) -> str:
    """A time zone where `now` is inside the collections contact hours (08:00–22:00), whatever the wall clock."""
    for name in ("Asia/Shanghai", "Europe/London", "America/New_York", "America/Los_Angeles", "Pacific/Auckland"):
        if 9 <= now.astimezone(ZoneInfo(name)).hour < 21:
            return name
    raise AssertionError(f"no daytime zone for {now}")


@pytest.fixture(scope="session", autouse=True)
def migrated_rows(django_db_setup, django_db_blocker) -> str:
    """The rows the migrations create, as serialized at database set-up, taken before Playwright starts."""
    return connection._test_serialized_contents


@pytest.fixture
def scenario(transactional_db, migrated_rows):
    """One borrower a day past due (M1) with an open collection case and a filed insurance claim, and one
    application waiting in manual review. The dates jump over the quiet month before the first due date."""
    from core.business_date import business_date_set
    from core.close import days_close_until
    from core.models import BusinessCalendar
    from debt_collection.models import CollectionCase, CollectorProfile
    from debt_collection.services import COLLECTORS_GROUP
    from insurance.models import InsuranceClaim, Insurer, Policy
    from insurance.services.policies import policy_transition
    from lending.models import Partner, Product
    from lending.services.credit_lines import credit_line_open
    from lending.services.loans import loan_drawdown
    from underwriting.models import Application
    from underwriting.services import application_submit

    if not BusinessCalendar.objects.exists():
        # After another transactional test has flushed the database, the serialized rollback cannot bring
        # the migrations' rows back here: under Playwright's event loop Django hands this test a fresh
        # connection object without the serialized contents, and the flush re-creates only the content types
        # and permissions (with other ids). Put back exactly what the migrations left, from the copy taken first.
        Permission.objects.all().delete()
        ContentType.objects.all().delete()
        ContentType.objects.clear_cache()
        connection.creation.deserialize_db_from_string(migrated_rows)
    business_date_set(new_date=START, reason="browser test set-up")
    partner = Partner.objects.create(code="acme", name="Acme Finance")
    product = Product.objects.get(code="revolving-cash-line")
    policy = Policy.objects.create(
        insurer=Insurer.objects.create(code="pingan", name="Ping An P&C"),
        number="POL-B1",
        claim_trigger_dpd=1,
        effective_from=START,
        effective_to=date(2034, 1, 1),
    )
    policy.products.set([product])
    policy_transition(policy_id=policy.pk, action="activate", reason="signed")
    collector = User.objects.create_user("li.collector", password=PASSWORD, is_staff=True)
    collector.groups.add(Group.objects.get(name=COLLECTORS_GROUP))
    CollectorProfile.objects.create(user=collector, capacity=10)
    line = credit_line_open(
        borrower=_borrower(partner, START), product=product, limit=Decimal("50000"),
        daily_rate=Decimal("0.0004"), reason="approved",
    )  # fmt: skip
    loan = loan_drawdown(
        credit_line_id=line.pk, amount=Decimal("12000"), term_months=12, method="equal_installment", disburse=True
    )
    business_date_set(new_date=FIRST_DUE, reason="quiet month skipped by the browser test")
    days_close_until(until=date(2031, 2, 16))
    case = CollectionCase.objects.get(borrower=line.borrower)
    # The contact-hours rule reads the wall clock: put the debtor where it is daytime now.
    CollectionCase.objects.filter(pk=case.pk).update(time_zone=daytime_zone(timezone.now()))
    application = application_submit(
        partner=partner,
        borrower=_borrower(partner, FIRST_DUE),
        data={
            "credit_score": 620, "monthly_income": "6000.00", "months_on_platform": 6,
            "monthly_obligations": "1200.00", "existing_debt": "20000.00", "other_lenders": 3,
            "identity_verified": True, "device_verified": False,
        },
        consent_at=datetime(2031, 2, 17, 9, 30, tzinfo=UTC),
        consent_scope="credit bureau query for this application",
    )  # fmt: skip
    assert application.state == Application.State.MANUAL_REVIEW
    return {
        "loan": loan,
        "case": case,
        "collector": collector,
        "claim": InsuranceClaim.objects.get(coverage__loan=loan),
        "application": application,
    }
