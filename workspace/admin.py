"""The reveal log (read-only, for auditors) and the borrower page's reveal screen.

Masked values are all the admin ever shows. A user with `reveal_pii` may ask
for one identifier of one borrower with a reason; the answer is one response
that is not cached, and the request is a PiiReveal row before the value is
decrypted (workspace.services.pii_reveal).
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from lending.admin import BorrowerAdmin as LendingBorrowerAdmin
from lending.models import Borrower
from workspace.models import PiiReveal
from workspace.services import REASON_MAX_LENGTH, REVEAL_PERMISSION, pii_fields_present, pii_reveal


@admin.register(PiiReveal)
class PiiRevealAdmin(admin.ModelAdmin):
    list_display = ["revealed_at", "user", "borrower", "field", "reason"]
    list_filter = ["field", "revealed_at", "user"]
    list_select_related = ["user", "borrower"]
    search_fields = ["user__username", "borrower__name", "reason", "=borrower__id"]
    date_hierarchy = "revealed_at"
    fields = ["revealed_at", "user", "borrower", "field", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RevealForm(forms.Form):
    field = forms.ChoiceField(label=_("Field"))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("Why you need the full value. Your name, the field and the reason are logged."),
    )

    def __init__(self, *args, fields: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [(name, PiiReveal.Field(name).label) for name in fields]


admin.site.unregister(Borrower)


@admin.register(Borrower)
class BorrowerAdmin(LendingBorrowerAdmin):
    change_form_template = "admin/lending/borrower/change_form_reveal.html"

    def get_urls(self):
        reveal = path(
            "<path:object_id>/reveal/",
            self.admin_site.admin_view(self.reveal_view),
            name="lending_borrower_reveal",
        )
        return [reveal, *super().get_urls()]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and request.user.has_perm(REVEAL_PERMISSION):
            context["reveal_url"] = reverse(f"{self.admin_site.name}:lending_borrower_reveal", args=[obj.pk])
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def reveal_view(self, request, object_id):
        borrower = self.get_object(request, unquote(object_id))
        if borrower is None:
            raise Http404
        if not self.has_view_permission(request, borrower) or not request.user.has_perm(REVEAL_PERMISSION):
            raise PermissionDenied
        fields = pii_fields_present(borrower)
        form = RevealForm(request.POST or None, fields=fields)
        revealed = None
        if request.method == "POST" and form.is_valid():
            try:
                revealed = pii_reveal(
                    user=request.user,
                    borrower_id=borrower.pk,
                    field=form.cleaned_data["field"],
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as error:
                form.add_error(None, str(error))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reveal personal data"),
            "opts": self.opts,
            "original": borrower,
            "form": form,
            "revealed": revealed,
            "revealed_field": PiiReveal.Field(form.cleaned_data["field"]).label if revealed else None,
            "change_url": reverse(f"{self.admin_site.name}:lending_borrower_change", args=[borrower.pk]),
        }
        response = TemplateResponse(request, "admin/workspace/reveal.html", context)
        # The clear value is shown once: no browser or proxy may keep a copy.
        add_never_cache_headers(response)
        return response
