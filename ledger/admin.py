"""Read-only ledger screens: nothing is added, changed or deleted from the admin."""

from django.contrib import admin

from ledger.models import Account, ChainHead, DaySeal, JournalEntry, JournalLine


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "kind"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


class JournalLineInline(admin.TabularInline):
    model = JournalLine
    fields = ["account", "loan_id", "debit", "credit"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "business_date", "kind", "chain", "sequence", "reference", "created_at"]
    list_filter = ["business_date", "kind"]
    search_fields = ["chain", "reference", "hash"]
    date_hierarchy = "business_date"
    inlines = [JournalLineInline]
    readonly_fields = [
        "business_date",
        "kind",
        "description",
        "reference",
        "reverses",
        "chain",
        "sequence",
        "previous_hash",
        "hash",
        "created_at",
    ]


@admin.register(DaySeal)
class DaySealAdmin(ReadOnlyAdmin):
    list_display = ["business_date", "entry_count", "digest", "sealed_at"]
    readonly_fields = ["business_date", "entry_count", "previous_digest", "digest", "sealed_at"]


@admin.register(JournalLine)
class JournalLineAdmin(ReadOnlyAdmin):
    list_display = ["id", "entry", "account", "loan_id", "debit", "credit"]
    list_filter = ["account", "entry__kind", "entry__business_date"]
    list_select_related = ["entry", "account"]
    search_fields = ["=loan_id", "entry__reference", "=entry__chain"]
    readonly_fields = ["entry", "account", "loan_id", "debit", "credit"]


@admin.register(ChainHead)
class ChainHeadAdmin(ReadOnlyAdmin):
    list_display = ["chain", "sequence", "hash"]
    search_fields = ["chain"]
    readonly_fields = ["chain", "sequence", "hash"]
