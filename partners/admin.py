"""Partner admin: the lending partner screen with its API keys, limits and webhook endpoint; webhook deliveries."""

from django.contrib import admin, messages
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core import pii
from lending.admin import PartnerAdmin as LendingPartnerAdmin
from lending.admin import ReadOnlyAdminMixin
from lending.models import Partner
from partners.models import (
    ApiKey,
    IdempotencyRecord,
    PartnerApiSettings,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookEvent,
)
from partners.services import api_key_revoke

# A URL typed without a scheme is taken as https (webhooks are delivered over https; Django 6's default).
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}


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
    formfield_overrides = HTTPS_URLS
    model = WebhookEndpoint
    fields = ["url", "secret", "is_active"]
    can_delete = False

    def get_fields(self, request, obj=None):
        # The signing secret is for those who may change it; viewers (auditors, analysts) see it masked.
        return self.fields if self.has_change_permission(request, obj) else ["url", "secret_masked", "is_active"]

    def get_readonly_fields(self, request, obj=None):
        return [] if self.has_change_permission(request, obj) else ["url", "secret_masked", "is_active"]

    @admin.display(description=_("Secret"))
    def secret_masked(self, endpoint):
        return _secret_masked(endpoint.secret)


def _secret_masked(secret: str) -> str:
    return pii.mask(secret, keep_start=0, keep_end=4) if secret else ""


admin.site.unregister(Partner)


@admin.register(Partner)
class PartnerAdmin(LendingPartnerAdmin):
    inlines = [ApiSettingsInline, WebhookEndpointInline, ApiKeyInline]


@admin.register(ApiKey)
class ApiKeyAdmin(SimpleHistoryAdmin):
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
    formfield_overrides = HTTPS_URLS
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
    formfield_overrides = HTTPS_URLS
    list_display = ["event", "number", "attempted_at", "status_code", "succeeded", "duration_ms", "error"]
    list_filter = ["succeeded", "event__type", "event__partner"]
    readonly_fields = [f.name for f in WebhookAttempt._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PartnerApiSettings)
class PartnerApiSettingsAdmin(SimpleHistoryAdmin):
    """Also edited inline on the partner page; here for the list across partners and the history."""

    list_display = ["partner", "requests_per_minute"]
    list_select_related = ["partner"]
    search_fields = ["partner__code", "partner__name"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    formfield_overrides = HTTPS_URLS
    """Read-only here (edited on the partner page); the signing secret is masked."""

    list_display = ["partner", "url", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["partner"]
    search_fields = ["partner__code", "partner__name", "url"]
    fields = ["partner", "url", "secret_masked", "is_active"]
    readonly_fields = fields

    @admin.display(description=_("Secret"))
    def secret_masked(self, endpoint):
        return _secret_masked(endpoint.secret)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["partner", "key", "state", "status_code", "created_at", "expires_at"]
    list_filter = ["state", "partner", "created_at"]
    list_select_related = ["partner"]
    search_fields = ["=key"]
    date_hierarchy = "created_at"
    fields = ["partner", "key", "fingerprint", "state", "status_code", "response_body", "created_at", "expires_at"]
    readonly_fields = fields
