from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LendingConfig(AppConfig):
    name = "lending"
    verbose_name = _("Lending")

    def ready(self):
        from ledger.verification import register_check
        from lending.reconciliation import loan_balance_problems

        register_check("lending.loan_balances", loan_balance_problems)
