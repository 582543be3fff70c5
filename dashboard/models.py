"""The dashboard owns no table: this unmanaged model only carries its permission and its admin entry."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Dashboard(models.Model):
    """Holds `dashboard.view_dashboard`, the permission to open the portfolio dashboard."""

    class Meta:
        managed = False
        default_permissions = ("view",)
        verbose_name = _("portfolio dashboard")
        verbose_name_plural = _("portfolio dashboard")

    def __str__(self):
        return str(self._meta.verbose_name)
