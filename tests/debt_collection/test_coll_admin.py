"""The collector workbench in the admin: my queue, the case page, one-click logging, bulk reassignment."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from debt_collection.models import CaseAssignment, CollectionCase, ContactAttempt

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def case(loan, collector, close_to, case_of):
    close_to(date(2031, 2, 17))
    return case_of(loan)


def test_my_queue_shows_the_collectors_cases(client, case, collector, make_collector):
    other = make_collector("other")
    client.force_login(collector)
    response = client.get(reverse("admin:collections_collectioncase_my_queue"), follow=True)
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [case]

    client.force_login(other)
    response = client.get(reverse("admin:collections_collectioncase_my_queue"), follow=True)
    assert list(response.context["cl"].result_list) == []


def test_the_case_page_shows_loans_schedule_and_next_contact(client, case, collector, loan):
    client.force_login(collector)
    response = client.get(reverse("admin:collections_collectioncase_change", args=[case.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert loan.number in page
    assert "Next allowed contact" in page
    assert "Call: no answer" in page
    assert len(response.context["installments"]) == 12


@pytest.fixture
def clock(monkeypatch):
    """Pin the wall clock the service reads (the attempt time of a click is "now")."""

    def set_to(moment: datetime) -> None:
        monkeypatch.setattr("debt_collection.services.timezone.now", lambda: moment)

    return set_to


def test_one_click_logs_an_attempt_through_the_service(client, case, collector, clock):
    clock(datetime(2025, 6, 17, 10, 30, tzinfo=SHANGHAI))
    client.force_login(collector)
    url = reverse("admin:collections_collectioncase_log_attempt", args=[case.pk])
    response = client.post(url, {"channel": "sms", "outcome": "delivered", "party": "debtor"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Attempt logged."]
    attempt = ContactAttempt.objects.get()
    assert (attempt.collector, attempt.channel, attempt.attempted_at) == (
        collector,
        "sms",
        datetime(2025, 6, 17, 10, 30, tzinfo=SHANGHAI),
    )


def test_a_click_at_night_is_refused_with_the_rule(client, case, collector, clock):
    clock(datetime(2025, 6, 17, 22, 0, tzinfo=SHANGHAI))
    client.force_login(collector)
    url = reverse("admin:collections_collectioncase_log_attempt", args=[case.pk])
    response = client.post(url, {"channel": "call", "outcome": "no_answer", "party": "debtor"}, follow=True)
    assert "quiet_hours" in [str(m) for m in response.context["messages"]][0]
    assert not ContactAttempt.objects.exists()


def test_contacting_a_third_party_from_the_page_is_refused_with_the_rule(client, case, collector, clock):
    clock(datetime(2025, 6, 17, 10, 30, tzinfo=SHANGHAI))
    client.force_login(collector)
    url = reverse("admin:collections_collectioncase_log_attempt", args=[case.pk])
    response = client.post(url, {"channel": "call", "outcome": "connected", "party": "third_party"}, follow=True)
    assert "debtor_only" in [str(m) for m in response.context["messages"]][0]
    assert not ContactAttempt.objects.exists()


def test_logging_needs_a_post(client, case, collector):
    client.force_login(collector)
    response = client.get(reverse("admin:collections_collectioncase_log_attempt", args=[case.pk]))
    assert response.status_code == 405


def test_a_manager_reassigns_in_bulk_from_the_list(client, case, make_collector):
    admin_user = User.objects.create_superuser("boss", password="x")
    newcomer = make_collector("newcomer")
    client.force_login(admin_user)
    url = reverse("admin:collections_collectioncase_changelist")
    confirm = client.post(url, {"action": "reassign", "_selected_action": [case.pk]})
    assert confirm.status_code == 200 and b"Reassign" in confirm.content
    client.post(
        url,
        {
            "action": "reassign",
            "_selected_action": [case.pk],
            "apply": "1",
            "collector": newcomer.pk,
            "reason": "leave",
        },
    )
    case.refresh_from_db()
    assert case.collector == newcomer
    assert CaseAssignment.objects.filter(actor=admin_user, collector=newcomer).exists()


def test_the_case_page_has_no_edit_rights(client, case, collector):
    client.force_login(collector)
    url = reverse("admin:collections_collectioncase_change", args=[case.pk])
    client.post(url, {"state": "resolved", "bucket": "M0"})
    assert CollectionCase.objects.get(pk=case.pk).state == case.state


def test_the_collectors_group_can_work_cases(db):
    from django.contrib.auth.models import Group

    codenames = set(Group.objects.get(name="collectors").permissions.values_list("codename", flat=True))
    assert {"view_collectioncase", "change_collectioncase", "view_promisetopay"} <= codenames
