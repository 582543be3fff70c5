"""Partner admin: the lending partner screen with its API keys, limits and webhook endpoint; webhook deliveries."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from lending.admin import PartnerAdmin as LendingPartnerAdmin
from lending.models import Partner
from partners.models import ApiKey, PartnerApiSettings, WebhookAttempt, WebhookEndpoint, WebhookEvent
from partners.services import api_key_revoke


class ApiKeyInline(admin.TabularInline):
    """Keys are issued by `issue_api_key` (the key is shown once there) and revoked with the action below."""

    model = ApiKey
    fields = ["prefix", "label", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ApiSettingsInline(admin.StackedInline):
    model = PartnerApiSettings
    can_delete = False


class WebhookEndpointInline(admin.StackedInline):
    model = WebhookEndpoint
    fields = ["url", "secret", "is_active"]
    can_delete = False


admin.site.unregister(Partner)


@admin.register(Partner)
class PartnerAdmin(LendingPartnerAdmin):
    inlines = [ApiSettingsInline, WebhookEndpointInline, ApiKeyInline]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "partner", "label", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["partner", ("revoked_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["partner", "prefix", "label", "created_at", "last_used_at", "revoked_at"]
    exclude = ["digest"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        for api_key in queryset:
            api_key_revoke(api_key_id=api_key.pk, reason=f"revoked by {request.user}")
        messages.success(request, _("%(count)d key(s) revoked.") % {"count": queryset.count()})


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["number", "attempted_at", "url", "status_code", "succeeded", "duration_ms", "error", "response_excerpt"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["id", "partner", "type", "state", "attempts", "next_attempt_at", "created_at", "delivered_at"]
    list_filter = ["state", "type", "partner"]
    readonly_fields = [
        "partner", "type", "payload", "state", "attempts", "next_attempt_at", "created_at", "delivered_at",
    ]  # fmt: skip
    inlines = [WebhookAttemptInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(admin.ModelAdmin):
    list_display = ["event", "number", "attempted_at", "status_code", "succeeded", "duration_ms", "error"]
    list_filter = ["succeeded", "event__type", "event__partner"]
    readonly_fields = [f.name for f in WebhookAttempt._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
