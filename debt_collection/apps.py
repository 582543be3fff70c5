from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionsConfig(AppConfig):
    # The package cannot be called `collections`: that would shadow the standard
    # library module for the whole process. The label keeps admin URLs and table
    # names reading "collections".
    name = "debt_collection"
    label = "collections"
    verbose_name = _("Collections")

    def ready(self):
        from debt_collection.selectors import collections_report_section
        from lending.selectors import portfolio_report_section_register

        portfolio_report_section_register("collections", collections_report_section)
