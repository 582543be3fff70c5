from django.apps import AppConfig


class InsuranceConfig(AppConfig):
    name = "insurance"
    verbose_name = "Insurance"

    def ready(self):
        from insurance.services.coverage import coverage_enrol, funding_shares_assign, premium_rate
        from lending import extensions

        extensions.premium_rate_provider(premium_rate)
        extensions.disbursement_listener(funding_shares_assign)
        extensions.disbursement_listener(coverage_enrol)
