"""The admin's login form: refuses a locked-out (username, address) pair before checking the password."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from core.login_throttle import client_address, login_locked


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "locked_out": "Too many failed logins for this username from your address. Try again later.",
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        if username and login_locked(username=username, address=client_address(self.request)):
            raise ValidationError(self.error_messages["locked_out"], code="locked_out")
        return super().clean()
