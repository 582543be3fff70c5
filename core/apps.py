from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self):
        # Each app's close.py registers its close-of-day steps with core.close.
        autodiscover_modules("close")
        # Connects the failed-login counter to django.contrib.auth's signals.
        from core import login_throttle  # noqa: F401
