from django.apps import AppConfig


class UnderwritingConfig(AppConfig):
    name = "underwriting"
    verbose_name = "Underwriting"
