from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsuranceConfig(AppConfig):
    name = "insurance"
    verbose_name = _("Insurance")

    def ready(self):
        from insurance.services.coverage import coverage_enrol, funding_shares_assign, premium_rate
        from lending import extensions

        extensions.premium_rate_provider(premium_rate)
        extensions.disbursement_listener(funding_shares_assign)
        extensions.disbursement_listener(coverage_enrol)
