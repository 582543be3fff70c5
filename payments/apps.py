from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self):
        from payments import close, receivers  # noqa: F401 - registers close steps and lending signal receivers
