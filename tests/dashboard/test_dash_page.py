"""The portfolio dashboard page: permission, figures as of a date, bucket links, CSV downloads, bad dates."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from dashboard.selectors import portfolio_dashboard

pytestmark = pytest.mark.django_db
AS_OF = date(2031, 3, 25)
URL = "/admin/dashboard/dashboard/"


def test_figures_at_the_end_of_a_date_follow_the_book(book, db):
    portfolio = portfolio_dashboard(as_of=AS_OF)
    by_bucket = {b.bucket: b for b in portfolio.buckets}
    assert by_bucket["M2"].loans == 2
    assert portfolio.summary["open_loans"] == 2
    assert portfolio.summary["dpd30_rate"] == Decimal("1.0000")
    assert portfolio.summary["dpd90_rate"] == Decimal("0.0000")
    assert portfolio.roll_matrix["M1"]["M2"] == 2
    (january,) = portfolio.vintages
    assert (january.loans, january.amount) == (3, Decimal("30000.00"))
    assert january.curve[:3] == [Decimal("0.0000"), Decimal("0.0000"), Decimal("0.6667")]


def test_a_past_date_is_exact(book, db):
    portfolio = portfolio_dashboard(as_of=date(2031, 2, 20))
    assert {b.bucket: b.loans for b in portfolio.buckets}["M1"] == 2
    assert portfolio.summary["dpd30_rate"] == Decimal("0.0000")


def test_staff_without_the_permission_cannot_open_it(client, db):
    client.force_login(User.objects.create_user("clerk", password="x", is_staff=True))
    assert client.get(URL).status_code == 403
    assert client.get(URL + "buckets.csv").status_code == 403


def test_the_page_shows_charts_and_links_each_bucket_to_the_filtered_loan_list(client, book, analyst):
    client.force_login(analyst)
    page = client.get(URL, {"date": AS_OF.isoformat()})
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<svg") >= 6
    link = reverse("admin:lending_loan_changelist") + "?dpd_bucket__exact=M2"
    assert f'href="{link}"' in html
    listed = client.get(link)
    assert listed.status_code == 200
    assert book[1].number in listed.content.decode() and book[0].number not in listed.content.decode()


def test_the_admin_index_links_the_dashboard(client, analyst):
    client.force_login(analyst)
    assert URL in client.get("/admin/").content.decode()


TABLES = ["summary", "buckets", "originations", "vintages", "roll_rates", "insurers", "models", "drift"]


@pytest.mark.parametrize("table", TABLES)
def test_every_table_downloads_as_csv(client, book, analyst, table):
    client.force_login(analyst)
    response = client.get(f"{URL}{table}.csv", {"date": AS_OF.isoformat()})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0]


def test_bucket_csv_carries_exact_money(client, book, analyst):
    client.force_login(analyst)
    rows = list(csv.reader(io.StringIO(client.get(f"{URL}buckets.csv", {"date": AS_OF.isoformat()}).content.decode())))
    m2 = next(row for row in rows if row[0] == "M2")
    assert m2[1] == "2" and Decimal(m2[2]) > Decimal("19000") and m2[3] == "1.0000"


@pytest.mark.parametrize("value", ["yesterday", "2031-02-30", "2099-01-01", "x" * 500])
def test_a_bad_date_falls_back_with_a_message_not_an_error(client, book, analyst, value):
    client.force_login(analyst)
    response = client.get(URL, {"date": value})
    assert response.status_code == 200
    assert response.context["as_of"] == AS_OF
    assert list(response.context["messages"])


def test_an_unknown_csv_table_is_not_found(client, analyst):
    client.force_login(analyst)
    assert client.get(URL + "nothing.csv").status_code == 404
