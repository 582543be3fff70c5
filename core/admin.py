from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from core.admin_login import ThrottledAdminAuthenticationForm
from core.models import BusinessCalendar, CloseStepRun

# Repeated failed logins lock a (username, address) pair out: see core/login_throttle.py.
admin.site.login_form = ThrottledAdminAuthenticationForm


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(SimpleHistoryAdmin):
    list_display = ["current_date"]
    readonly_fields = ["current_date"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CloseStepRun)
class CloseStepRunAdmin(admin.ModelAdmin):
    list_display = ["business_date", "step", "status", "attempts", "started_at", "finished_at"]
    list_filter = ["status", "step"]
    date_hierarchy = "business_date"
    readonly_fields = ["business_date", "step", "status", "attempts", "started_at", "finished_at", "detail"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
