"""The portfolio dashboard as an admin page: listed on the admin index, gated by `dashboard.view_dashboard`."""

import csv
from datetime import date, timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from core.business_date import business_date_current
from dashboard.models import Dashboard
from dashboard.selectors import portfolio_dashboard
from dashboard.tables import portfolio_charts, portfolio_tables


def as_of_parse(value: str | None, *, today: date) -> tuple[date, str | None]:
    """The date asked for, or the last closed business date with the reason the asked one was refused."""
    default = today - timedelta(days=1)
    if not value:
        return default, None
    try:
        asked = date.fromisoformat(value)
    except ValueError:
        return default, _("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": value[:40]}
    if asked > today:
        return default, _("%(date)s is after the business date %(today)s.") % {"date": asked, "today": today}
    return asked, None


@admin.register(Dashboard)
class DashboardAdmin(admin.ModelAdmin):
    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.has_perm("dashboard.view_dashboard")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # The model owns no table: there are no rows to list, only the page.
        return Dashboard.objects.none()

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("", view(self.changelist_view), name="dashboard_dashboard_changelist"),
            path("<slug:table>.csv", view(self.csv_view), name="dashboard_dashboard_csv"),
        ]

    def _tables(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        as_of, problem = as_of_parse(request.GET.get("date"), today=business_date_current())
        if problem:
            messages.error(request, problem)
        portfolio = portfolio_dashboard(as_of=as_of)
        loans = reverse("admin:lending_loan_changelist")
        tables = portfolio_tables(portfolio, bucket_link=lambda bucket: f"{loans}?dpd_bucket__exact={bucket}")
        return portfolio, tables

    def changelist_view(self, request, extra_context=None):
        portfolio, tables = self._tables(request)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Portfolio dashboard"),
            "opts": self.opts,
            "portfolio": portfolio,
            "tables": tables,
            "charts": portfolio_charts(portfolio, tables),
            "as_of": portfolio.as_of,
            "business_date": business_date_current(),
        }
        return TemplateResponse(request, "admin/dashboard/dashboard.html", context)

    def csv_view(self, request, table):
        portfolio, tables = self._tables(request)
        if table not in tables:
            raise Http404(_("No such table."))
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{table}-{portfolio.as_of.isoformat()}.csv"'
        writer = csv.writer(response, lineterminator="\n")
        writer.writerow([str(c) for c in tables[table].columns])
        writer.writerows([str(cell) for cell in row] for row in tables[table].rows)
        return response
