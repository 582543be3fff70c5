"""The payments admin: lists render, an account is added through the service, a break is resolved with a note."""

import pytest
from django.urls import reverse

from core import pii
from payments.models import PaymentAccount, SettlementBreak
from payments.services.settlement import settlement_reconcile

CARD = "6222021234567890128"


@pytest.mark.parametrize("model", ["paymentaccount", "disbursement", "debit", "callbacklog", "settlementreport",
                                   "settlementbreak"])  # fmt: skip
def test_every_list_renders(admin_client, world, model):
    world.card(for_disbursement=True)
    world.draw()
    assert admin_client.get(reverse(f"admin:payments_{model}_changelist")).status_code == 200


def test_an_account_added_in_the_admin_goes_through_the_service(admin_client, world):
    url = reverse("admin:payments_paymentaccount_add")
    form = {"borrower": world.borrower.pk, "kind": "bank_card", "bank": "ICBC", "number": CARD,
            "holder_name": "Someone Else"}  # fmt: skip
    refused = admin_client.post(url, form)
    assert refused.status_code == 200 and "the account holder must be the borrower" in refused.content.decode()
    assert not PaymentAccount.objects.exists()
    response = admin_client.post(url, {**form, "holder_name": "Li Si", "debit_priority": 1})
    assert response.status_code == 302, response.content.decode()[:2000]
    account = PaymentAccount.objects.get()
    assert pii.decrypt(account.number_encrypted) == CARD and account.debit_priority == 1


def test_finance_resolves_a_break_in_the_admin(admin_client, world, admin_user):
    world.draw()
    report = settlement_reconcile(gateway="simulated", on_date=world.line.valid_from, lines=[])
    row = report.break_rows.get()
    url = reverse("admin:payments_settlementbreak_change", args=[row.pk])
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"resolution": "refund confirmed by the bank"}).status_code == 302
    row = SettlementBreak.objects.get(pk=row.pk)
    assert (row.resolved_by, row.resolution) == (admin_user, "refund confirmed by the bank")
