"""Routes of the partner API v1 (mounted at /api/v1/)."""

from django.urls import path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from partners.api import payment_views, views
from partners.api.errors import not_found_view


class IdConverter:
    """A positive 64-bit id; anything else (0, signs, letters, too many digits) matches no route → 404."""

    regex = "[1-9][0-9]{0,17}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


register_converter(IdConverter, "id")

app_name = "partner-api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="partner-api:schema"), name="docs"),
    path("borrowers", views.BorrowersView.as_view(), name="borrowers"),
    path("borrowers/<id:pk>", views.BorrowerView.as_view(), name="borrower"),
    path("credit-lines", views.CreditLinesView.as_view(), name="credit-lines"),
    path("credit-lines/<id:pk>", views.CreditLineView.as_view(), name="credit-line"),
    path("credit-lines/<id:pk>/drawdowns", views.DrawdownsView.as_view(), name="drawdowns"),
    path("quotes", views.QuoteView.as_view(), name="quotes"),
    path("loans", views.LoansView.as_view(), name="loans"),
    path("loans/<id:pk>", views.LoanView.as_view(), name="loan"),
    path("loans/<id:pk>/schedule", views.LoanScheduleView.as_view(), name="loan-schedule"),
    path("loans/<id:pk>/repayments", views.RepaymentsView.as_view(), name="repayments"),
    path("loans/<id:pk>/payoff-quote", views.PayoffQuoteView.as_view(), name="payoff-quote"),
    path("applications", views.ApplicationsView.as_view(), name="applications"),
    path("applications/<id:pk>", views.ApplicationView.as_view(), name="application"),
    path("borrowers/<id:pk>/payment-accounts", payment_views.PaymentAccountsView.as_view(), name="payment-accounts"),
    path("loans/<id:pk>/disbursement", payment_views.DisbursementView.as_view(), name="disbursement"),
    path(
        "loans/<id:pk>/disbursement/report",
        payment_views.DisbursementReportView.as_view(),
        name="disbursement-report",
    ),
    path("loans/<id:pk>/debits", payment_views.DebitsView.as_view(), name="debits"),
    path("loans/<id:pk>/debits/<id:debit_id>/report", payment_views.DebitReportView.as_view(), name="debit-report"),
    path("payments/callbacks/<str:gateway>", payment_views.GatewayCallbackView.as_view(), name="gateway-callback"),
    re_path(r"^.*$", not_found_view),
]
