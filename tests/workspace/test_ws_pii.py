"""Personal data: masked on every page, revealed only with the permission and a reason, and every reveal logged."""

import pytest
from django.urls import reverse

from core.errors import DomainError
from workspace.models import PiiReveal
from workspace.services import pii_reveal


def reveal_url(borrower):
    return reverse("admin:lending_borrower_reveal", args=[borrower.pk])


def test_without_the_permission_there_is_no_reveal_link_screen_or_service(client, role_user, borrower, known_ids):
    analyst = role_user("risk analysts")
    client.force_login(analyst)
    page = client.get(reverse("admin:lending_borrower_change", args=[borrower.pk]))
    assert page.status_code == 200 and b"reveal-link" not in page.content
    assert client.get(reveal_url(borrower)).status_code == 403
    response = client.post(reveal_url(borrower), {"field": "national_id", "reason": "curious"})
    assert response.status_code == 403 and known_ids["national_id"].encode() not in response.content
    with pytest.raises(DomainError) as caught:
        pii_reveal(user=analyst, borrower_id=borrower.pk, field="national_id", reason="curious")
    assert caught.value.code == "forbidden"
    assert not PiiReveal.objects.exists()


def test_a_reveal_without_a_reason_shows_nothing_and_logs_nothing(client, role_user, borrower, known_ids):
    client.force_login(role_user("administrators"))
    response = client.post(reveal_url(borrower), {"field": "national_id", "reason": "   "})
    assert response.status_code == 200 and b"revealed-value" not in response.content
    assert known_ids["national_id"].encode() not in response.content
    assert not PiiReveal.objects.exists()


def test_a_reveal_shows_the_value_once_uncached_and_logs_who_what_which_when_why(
    client, role_user, borrower, known_ids
):
    admin_user = role_user("administrators")
    client.force_login(admin_user)
    page = client.get(reverse("admin:lending_borrower_change", args=[borrower.pk]))
    assert b"reveal-link" in page.content
    response = client.post(reveal_url(borrower), {"field": "mobile", "reason": "borrower disputes the number on file"})
    assert response.status_code == 200
    assert known_ids["mobile"].encode() in response.content
    assert "no-store" in response["Cache-Control"]
    reveal = PiiReveal.objects.get()
    assert (reveal.user, reveal.borrower, reveal.field) == (admin_user, borrower, "mobile")
    assert reveal.reason == "borrower disputes the number on file" and reveal.revealed_at is not None
    # Shown once: the borrower page afterwards is masked as before.
    again = client.get(reverse("admin:lending_borrower_change", args=[borrower.pk]))
    assert known_ids["mobile"].encode() not in again.content


def test_the_auditor_reads_the_reveal_log_and_cannot_change_it(client, role_user, borrower):
    pii_reveal(user=role_user("administrators"), borrower_id=borrower.pk, field="national_id", reason="court order")
    client.force_login(role_user("auditors"))
    listing = client.get(reverse("admin:workspace_piireveal_changelist"))
    assert listing.status_code == 200 and b"court order" in listing.content
    reveal = PiiReveal.objects.get()
    change = reverse("admin:workspace_piireveal_change", args=[reveal.pk])
    assert client.get(change).status_code == 200
    assert client.post(change, {"reason": "edited"}).status_code == 403
    delete = reverse("admin:workspace_piireveal_delete", args=[reveal.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reveal_url(borrower)).status_code == 403
    assert PiiReveal.objects.get().reason == "court order"


def test_an_unknown_field_or_a_missing_value_is_refused(role_user, borrower):
    admin_user = role_user("administrators")
    with pytest.raises(DomainError) as unknown:
        pii_reveal(user=admin_user, borrower_id=borrower.pk, field="password", reason="x")
    with pytest.raises(DomainError) as missing:
        pii_reveal(user=admin_user, borrower_id=borrower.pk, field="credit_code", reason="x")
    assert (unknown.value.code, missing.value.code) == ("invalid_field", "no_value")
    assert not PiiReveal.objects.exists()


@pytest.mark.parametrize("typed", ["identifier", "mobile", "spaced identifier"])
def test_a_typed_national_id_or_mobile_finds_the_borrower_and_the_loan_by_keyed_hash(
    client, role_user, loan, known_ids, typed
):
    term = {
        "identifier": known_ids["national_id"],
        "mobile": known_ids["mobile"],
        "spaced identifier": f" {known_ids['national_id'][:6]} {known_ids['national_id'][6:]} ",
    }[typed]
    client.force_login(role_user("risk analysts"))
    borrowers = client.get(reverse("admin:lending_borrower_changelist"), {"q": term})
    loans = client.get(reverse("admin:lending_loan_changelist"), {"q": term})
    lines = client.get(reverse("admin:lending_creditline_changelist"), {"q": term})
    assert list(borrowers.context["cl"].result_list) == [loan.credit_line.borrower]
    assert list(loans.context["cl"].result_list) == [loan]
    assert list(lines.context["cl"].result_list) == [loan.credit_line]
    nobody = client.get(reverse("admin:lending_loan_changelist"), {"q": "13900000000"})
    assert list(nobody.context["cl"].result_list) == []


def test_masked_values_never_leak_to_a_user_without_reveal(client, role_user, book, known_ids):
    loan = book["loan"]
    borrower = loan.credit_line.borrower
    pages = [
        reverse("admin:lending_borrower_changelist"),
        reverse("admin:lending_borrower_change", args=[borrower.pk]),
        reverse("admin:lending_borrower_history", args=[borrower.pk]),
        reverse("admin:lending_loan_changelist"),
        reverse("admin:lending_loan_change", args=[loan.pk]),
        reverse("admin:lending_loan_history", args=[loan.pk]),
        reverse("admin:lending_creditline_change", args=[loan.credit_line_id]),
        reverse("admin:collections_collectioncase_changelist"),
        reverse("admin:collections_collectioncase_change", args=[loan.credit_line.borrower.collection_cases.get().pk]),
        reverse("admin:insurance_insuranceclaim_changelist"),
        reverse("admin:underwriting_application_changelist"),
    ]
    client.force_login(role_user("auditors"))
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        content = response.content.decode()
        for value in known_ids.values():
            assert value not in content, f"{value} on {url}"
    history_entry = borrower.history.first()
    detail = client.get(reverse("admin:lending_borrower_simple_history", args=[borrower.pk, history_entry.pk]))
    assert detail.status_code == 200
    assert known_ids["national_id"] not in detail.content.decode()
    assert borrower.national_id_masked in client.get(pages[1]).content.decode()


def test_a_typed_national_id_finds_the_collection_case_and_the_claim(client, role_user, book, known_ids):
    loan = book["loan"]
    client.force_login(role_user("auditors"))
    cases = client.get(reverse("admin:collections_collectioncase_changelist"), {"q": known_ids["national_id"]})
    claims = client.get(reverse("admin:insurance_insuranceclaim_changelist"), {"q": known_ids["national_id"]})
    by_number = client.get(reverse("admin:collections_collectioncase_changelist"), {"q": loan.number})
    assert [case.borrower_id for case in cases.context["cl"].result_list] == [loan.credit_line.borrower_id]
    assert [claim.coverage.loan_id for claim in claims.context["cl"].result_list] == [loan.pk]
    assert [case.borrower_id for case in by_number.context["cl"].result_list] == [loan.credit_line.borrower_id]
