"""The lending admin: pages render, personal data stays masked, transitions go through services."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin
from stdnum.cn import ric, uscc

from core.business_date import business_date_set
from lending.models import (
    Borrower,
    CreditLine,
    CreditLineChange,
    Installment,
    Loan,
    Partner,
    Product,
    Repayment,
    RepaymentAllocation,
    RepaymentReversal,
)
from lending.services.borrowers import borrower_onboard_business, borrower_onboard_person
from lending.services.credit_lines import credit_line_open
from lending.services.loans import loan_disburse, loan_drawdown
from lending.services.repayments import repayment_post, repayment_reverse

pytestmark = pytest.mark.django_db

TODAY = date(2026, 1, 15)
NATIONAL_ID = "11010119900101123" + ric.calc_check_digit("11010119900101123" + "0")
MOBILE = "13812345678"
CREDIT_CODE = "91330106MA2AB1234" + uscc.calc_check_digit("91330106MA2AB1234")

REGISTERED = [
    Partner,
    Borrower,
    Product,
    CreditLine,
    Loan,
    Installment,
    Repayment,
    RepaymentReversal,
    RepaymentAllocation,
]


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def open_line(partner: Partner, name: str, national_id: str, mobile: str) -> CreditLine:
    borrower = borrower_onboard_person(
        partner=partner,
        name=name,
        national_id=national_id,
        mobile=mobile,
        monthly_income=Decimal("12000"),
        today=TODAY,
    )
    return credit_line_open(
        borrower=borrower,
        product=Product.objects.get(code="revolving-cash-line"),
        limit=Decimal("20000"),
        daily_rate=Decimal("0.0004"),
        reason="approved",
    )


@pytest.fixture
def book(db):
    """An active line with a disbursed loan (one repayment kept, one reversed) and a pending loan."""
    business_date_set(new_date=TODAY, reason="test set-up")
    partner = Partner.objects.create(code="acme", name="Acme")
    line = open_line(partner, "Zhang San", NATIONAL_ID, MOBILE)
    disbursed = loan_disburse(
        loan_id=loan_drawdown(
            credit_line_id=line.pk, amount=Decimal("10000"), term_months=12, method="equal_installment"
        ).pk
    )
    kept = repayment_post(loan_id=disbursed.pk, amount=Decimal("500"))
    returned = repayment_post(loan_id=disbursed.pk, amount=Decimal("300"))
    repayment_reverse(repayment_id=returned.pk, reason="returned by bank")
    pending = loan_drawdown(credit_line_id=line.pk, amount=Decimal("1000"), term_months=3, method="equal_principal")
    return SimpleNamespace(
        partner=partner,
        borrower=line.borrower,
        line=line,
        disbursed=disbursed,
        pending=pending,
        repayment=kept,
        reversed_repayment=returned,
    )


def grow_book(book, count: int) -> None:
    """More borrowers, lines, loans and repayments, to show list pages do not query per row."""
    for i in range(count):
        line = open_line(book.partner, f"Borrower {i}", "11010119900101" + _id_tail(200 + i), f"1391234{5600 + i}")
        loan = loan_disburse(
            loan_id=loan_drawdown(
                credit_line_id=line.pk, amount=Decimal("5000"), term_months=6, method="equal_installment"
            ).pk
        )
        repayment_post(loan_id=loan.pk, amount=Decimal("100"))


def _id_tail(sequence: int) -> str:
    body = "11010119900101" + f"{sequence:03d}"
    return f"{sequence:03d}" + ric.calc_check_digit(body + "0")


# --- every page renders -------------------------------------------------------


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m.__name__)
def test_changelist_and_change_page_render_for_a_superuser(admin_client, book, model):
    assert model in admin.site._registry
    obj = model.objects.order_by("pk").first()
    assert obj is not None, "the fixture must create a row of every registered model"

    assert admin_client.get(admin_url(model, "changelist")).status_code == 200
    assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200
    if isinstance(admin.site._registry[model], SimpleHistoryAdmin):
        assert admin_client.get(admin_url(model, "history", obj.pk)).status_code == 200
        # The demo product comes from a data migration, which writes no history.
        for version in obj.history.all()[:1]:
            assert admin_client.get(admin_url(model, "simple_history", obj.pk, version.pk)).status_code == 200


def test_loan_change_page_shows_installments_and_repayments_inline(admin_client, book):
    html = admin_client.get(admin_url(Loan, "change", book.disbursed.pk)).content.decode()

    assert "installments-group" in html
    assert "repayments-group" in html


def test_a_line_links_to_its_loans_and_the_filter_works(admin_client, book):
    response = admin_client.get(admin_url(Loan, "changelist"), {"credit_line__id__exact": book.line.pk})

    assert response.status_code == 200
    assert {loan.pk for loan in response.context["cl"].result_list} == {book.disbursed.pk, book.pending.pk}


@pytest.mark.parametrize("model", [Loan, CreditLine, Installment, Repayment, Borrower, RepaymentAllocation])
def test_changelist_queries_do_not_grow_with_rows(admin_client, book, model):
    url = admin_url(model, "changelist")
    admin_client.get(url)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    grow_book(book, 3)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)

    assert response.status_code == 200
    assert len(many) == len(few), "\n".join(q["sql"] for q in many)


# --- permissions --------------------------------------------------------------


@pytest.mark.parametrize("model", [Borrower, CreditLine, Loan, Installment, Repayment, RepaymentReversal])
def test_service_written_models_cannot_be_added_in_the_admin(admin_client, book, model):
    assert admin_client.get(admin_url(model, "add")).status_code == 403


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m.__name__)
def test_nothing_can_be_deleted_in_the_admin(admin_client, book, model):
    obj = model.objects.order_by("pk").first()

    assert admin_client.get(admin_url(model, "delete", obj.pk)).status_code == 403


def test_a_loan_cannot_be_edited_through_its_form(admin_client, book):
    response = admin_client.post(admin_url(Loan, "change", book.pending.pk), {"state": "current"})

    assert response.status_code == 403
    book.pending.refresh_from_db()
    assert book.pending.state == Loan.State.PENDING


# --- personal data --------------------------------------------------------------


def test_borrower_pages_show_masked_identifiers_only(admin_client, book):
    borrower = Borrower.objects.get(pk=book.borrower.pk)
    pages = [
        admin_url(Borrower, "changelist"),
        admin_url(Borrower, "change", borrower.pk),
        admin_url(Borrower, "history", borrower.pk),
        admin_url(Borrower, "simple_history", borrower.pk, borrower.history.latest().pk),
    ]
    for url in pages:
        html = admin_client.get(url).content.decode()
        assert NATIONAL_ID not in html
        assert MOBILE not in html
        assert borrower.national_id_hash not in html
        assert borrower.mobile_hash not in html
        assert borrower.national_id_encrypted not in html
        assert "1990-01-01" not in html and "Jan. 1, 1990" not in html
    html = admin_client.get(admin_url(Borrower, "change", borrower.pk)).content.decode()
    assert borrower.national_id_masked in html
    assert borrower.mobile_masked in html


def test_borrower_history_shows_masked_changes_but_not_hash_changes(admin_client, book):
    borrower = Borrower.objects.get(pk=book.borrower.pk)
    old_hash = borrower.mobile_hash
    # A change of mobile as a future service would write it (no such service yet).
    borrower.mobile_hash, borrower.mobile_masked = "f" * 64, "+86 139****0000"
    borrower.save()

    html = admin_client.get(admin_url(Borrower, "history", borrower.pk)).content.decode()

    assert "+86 139****0000" in html
    assert old_hash not in html and "f" * 64 not in html


@pytest.mark.parametrize(
    "term",
    [NATIONAL_ID, NATIONAL_ID.lower(), " ".join([NATIONAL_ID[:6], NATIONAL_ID[6:14], NATIONAL_ID[14:]])],
    ids=["as stored", "lower-case", "with spaces"],
)
def test_searching_borrowers_by_the_full_national_id_finds_them(admin_client, book, term):
    response = admin_client.get(admin_url(Borrower, "changelist"), {"q": term})

    assert [b.pk for b in response.context["cl"].result_list] == [book.borrower.pk]


def test_searching_borrowers_by_mobile_or_name_finds_them(admin_client, book):
    for term in ["138 1234 5678", "+86 13812345678", "zhang"]:
        response = admin_client.get(admin_url(Borrower, "changelist"), {"q": term})
        assert [b.pk for b in response.context["cl"].result_list] == [book.borrower.pk], term


def test_searching_borrowers_by_part_of_a_national_id_finds_nobody(admin_client, book):
    response = admin_client.get(admin_url(Borrower, "changelist"), {"q": NATIONAL_ID[:10]})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_a_business_borrower_shows_its_masked_credit_code_and_is_found_by_it(admin_client, book):
    business = borrower_onboard_business(
        partner=book.partner,
        name="Hangzhou Noodles",
        credit_code=CREDIT_CODE,
        mobile="13987654321",
        legal_representative="Li Si",
        business_type="restaurant",
        business_start_date=date(2020, 5, 1),
        today=TODAY,
    )

    html = admin_client.get(admin_url(Borrower, "change", business.pk)).content.decode()
    found = admin_client.get(admin_url(Borrower, "changelist"), {"q": CREDIT_CODE.lower()})

    assert CREDIT_CODE not in html and business.credit_code_hash not in html
    assert business.credit_code_masked in html
    assert "Age at the business date" not in html
    assert [b.pk for b in found.context["cl"].result_list] == [business.pk]


# --- transitions ----------------------------------------------------------------


def test_an_active_line_shows_freeze_and_close_but_not_unfreeze(admin_client, book):
    html = admin_client.get(admin_url(CreditLine, "change", book.line.pk)).content.decode()

    assert admin_url(CreditLine, "transition", book.line.pk, "freeze") in html
    assert admin_url(CreditLine, "transition", book.line.pk, "close") in html
    assert admin_url(CreditLine, "transition", book.line.pk, "unfreeze") not in html


def test_freezing_a_line_from_the_admin_goes_through_the_service(admin_client, admin_user, book):
    response = admin_client.post(
        admin_url(CreditLine, "transition", book.line.pk, "freeze"),
        {"reason": "suspected fraud"},
        follow=True,
    )

    assert response.status_code == 200
    assert ("success", "The credit line was frozen.") in messages_of(response)
    book.line.refresh_from_db()
    assert book.line.state == CreditLine.State.FROZEN
    change = CreditLineChange.objects.filter(credit_line=book.line).latest("id")
    assert (change.field, change.old_value, change.new_value) == ("state", "active", "frozen")
    assert change.reason == "suspected fraud"
    assert change.actor == admin_user
    latest = book.line.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (admin_user, "suspected fraud")
    html = response.content.decode()
    assert admin_url(CreditLine, "transition", book.line.pk, "unfreeze") in html
    assert admin_url(CreditLine, "transition", book.line.pk, "freeze") not in html


def test_a_transition_without_a_reason_is_refused_with_a_message(admin_client, book):
    response = admin_client.post(
        admin_url(CreditLine, "transition", book.line.pk, "freeze"), {"reason": "  "}, follow=True
    )

    assert ("error", "Freeze needs a reason.") in messages_of(response)
    book.line.refresh_from_db()
    assert book.line.state == CreditLine.State.ACTIVE


def test_disbursing_an_already_disbursed_loan_shows_an_error_not_a_500(admin_client, book):
    response = admin_client.post(admin_url(Loan, "transition", book.disbursed.pk, "disburse"), follow=True)

    assert response.status_code == 200
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "Disburse refused" in text and "current" in text


def test_a_pending_loan_shows_disburse_and_cancel_and_a_disbursed_one_neither(admin_client, book):
    pending = admin_client.get(admin_url(Loan, "change", book.pending.pk)).content.decode()
    disbursed = admin_client.get(admin_url(Loan, "change", book.disbursed.pk)).content.decode()

    for name in ["disburse", "cancel"]:
        assert admin_url(Loan, "transition", book.pending.pk, name) in pending
        assert admin_url(Loan, "transition", book.disbursed.pk, name) not in disbursed


def test_disbursing_a_pending_loan_from_the_admin_builds_its_schedule(admin_client, book):
    response = admin_client.post(admin_url(Loan, "transition", book.pending.pk, "disburse"), follow=True)

    assert ("success", "The loan was disbursed.") in messages_of(response)
    book.pending.refresh_from_db()
    assert book.pending.state == Loan.State.CURRENT
    assert book.pending.installments.count() == 3


def test_cancelling_a_pending_loan_frees_the_limit(admin_client, book):
    used_before = CreditLine.objects.get(pk=book.line.pk).used
    admin_client.post(admin_url(Loan, "transition", book.pending.pk, "cancel"), {"reason": "customer asked"})

    book.pending.refresh_from_db()
    assert book.pending.state == Loan.State.CANCELLED
    assert CreditLine.objects.get(pk=book.line.pk).used == used_before - book.pending.principal


def test_reversing_a_repayment_from_the_admin_records_the_reversal(admin_client, admin_user, book):
    url = admin_url(Repayment, "transition", book.repayment.pk, "reverse")
    assert url in admin_client.get(admin_url(Repayment, "change", book.repayment.pk)).content.decode()

    response = admin_client.post(url, {"reason": "returned by bank", "reference": "BANK-42"}, follow=True)

    assert response.status_code == 200
    reversal = RepaymentReversal.objects.get(repayment=book.repayment)
    assert (reversal.reason, reversal.reference, reversal.actor) == (
        "returned by bank",
        "BANK-42",
        admin_user,
    )
    assert url not in response.content.decode()


def test_reversing_a_reversed_repayment_shows_an_error(admin_client, book):
    url = admin_url(Repayment, "transition", book.reversed_repayment.pk, "reverse")
    assert url not in admin_client.get(admin_url(Repayment, "change", book.reversed_repayment.pk)).content.decode()

    response = admin_client.post(url, {"reason": "again"}, follow=True)

    assert response.status_code == 200
    [(level, _text)] = messages_of(response)
    assert level == "error"


def test_transition_urls_refuse_get(admin_client, book):
    response = admin_client.get(admin_url(CreditLine, "transition", book.line.pk, "freeze"))

    assert response.status_code == 405


def test_an_unknown_transition_is_not_found(admin_client, book):
    response = admin_client.post(admin_url(CreditLine, "transition", book.line.pk, "activate"), {"reason": "x"})

    assert response.status_code == 404


def test_staff_without_change_permission_see_no_buttons_and_cannot_transition(client, django_user_model, book):
    viewer = django_user_model.objects.create_user(username="viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_creditline"))
    client.force_login(viewer)

    html = client.get(admin_url(CreditLine, "change", book.line.pk)).content.decode()
    response = client.post(admin_url(CreditLine, "transition", book.line.pk, "freeze"), {"reason": "x"})

    assert admin_url(CreditLine, "transition", book.line.pk, "freeze") not in html
    assert response.status_code == 403
    book.line.refresh_from_db()
    assert book.line.state == CreditLine.State.ACTIVE


# --- configuration ----------------------------------------------------------------


def _product_form_data(product: Product, **changes) -> dict:
    data = {
        field: getattr(product, field)
        for field in [
            "name",
            "is_active",
            "min_limit",
            "max_limit",
            "min_drawdown",
            "drawdown_multiple",
            "min_daily_rate",
            "default_daily_rate",
            "max_daily_rate",
            "day_count",
            "monthly_fee_rate",
            "penalty_multiplier",
            "apr_cap",
            "prepayment",
            "grace_days",
            "freeze_dpd",
            "npl_dpd",
            "write_off_dpd",
            "allocation",
            "residue_tolerance",
        ]
    }
    data.update(
        terms="[3, 6, 12]",
        methods='["equal_installment"]',
        component_order=('["penalty", "fee", "interest", "principal"]'),
    )
    data.update(changes)
    return data


def test_editing_a_product_records_the_reason_and_user_in_its_history(admin_client, admin_user, db):
    product = Product.objects.get(code="revolving-cash-line")

    response = admin_client.post(
        admin_url(Product, "change", product.pk),
        _product_form_data(product, grace_days=3, change_reason="grace period policy"),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    product.refresh_from_db()
    assert product.grace_days == 3
    latest = product.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (admin_user, "grace period policy")


@pytest.mark.parametrize(
    "changes",
    [
        {"methods": '["balloon"]'},
        {"terms": "[3, -6]"},
        {"component_order": '["interest", "principal"]'},
        {"change_reason": ""},
    ],
)
def test_a_product_with_broken_settings_is_refused(admin_client, db, changes):
    product = Product.objects.get(code="revolving-cash-line")
    data = _product_form_data(product, change_reason="tidy up")
    data.update(changes)

    response = admin_client.post(admin_url(Product, "change", product.pk), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
