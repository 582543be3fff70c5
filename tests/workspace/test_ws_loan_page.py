"""From a delinquent loan's page a risk analyst reaches its schedule, payments, collection log, claim and history."""

import re

from django.urls import reverse

from insurance.models import InsuranceClaim


def test_the_loan_page_links_to_its_collection_log_claim_and_history(client, role_user, book):
    loan = book["loan"]
    client.force_login(role_user("risk analysts"))
    overdue = client.get(reverse("admin:index")).content.decode()
    overdue_url = re.search(r'id="ws-overdue" href="([^"]+)"', overdue).group(1).replace("&amp;", "&")
    listed = client.get(overdue_url)
    assert loan in listed.context["cl"].result_list
    page = client.get(reverse("admin:lending_loan_change", args=[loan.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    # The schedule and the payments are inlines of the loan page.
    assert 'id="installments-group"' in content and 'id="repayments-group"' in content
    links = [href.replace("&amp;", "&") for href in re.findall(r'<a href="([^"]+)">', content)]
    # The "Related" links of the loan, not the navigation sidebar's plain list links.
    case_list = next(link for link in links if "collectioncase/?borrower__id__exact=" in link)
    claim_list = next(link for link in links if f"insuranceclaim/?q={loan.number}" in link)
    history = next(link for link in links if link.endswith(f"/loan/{loan.pk}/history/"))
    cases = client.get(case_list)
    assert [case.borrower for case in cases.context["cl"].result_list] == [loan.credit_line.borrower]
    claims = client.get(claim_list)
    assert list(claims.context["cl"].result_list) == [InsuranceClaim.objects.get(coverage__loan=loan)]
    assert client.get(history).status_code == 200
