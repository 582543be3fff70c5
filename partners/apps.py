from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = _("Partners")

    def ready(self):
        # Webhooks follow lending's events; lending knows nothing of partners.
        from lending import events
        from partners import webhooks
        from partners.models import WebhookEvent
        from underwriting.events import applications_decided

        events.loans_disbursed.connect(webhooks.on_loans(WebhookEvent.Type.LOAN_DISBURSED), weak=False)
        events.loans_paid_off.connect(webhooks.on_loans(WebhookEvent.Type.LOAN_PAID_OFF), weak=False)
        events.loans_written_off.connect(webhooks.on_loans(WebhookEvent.Type.LOAN_WRITTEN_OFF), weak=False)
        events.installments_overdue.connect(webhooks.on_installments_overdue)
        events.credit_line_changes_recorded.connect(webhooks.on_credit_line_changes)
        applications_decided.connect(webhooks.on_applications_decided)
