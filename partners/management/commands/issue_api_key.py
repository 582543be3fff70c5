from django.core.management.base import CommandError

from core.management.base import DomainCommand
from lending.models import Partner
from partners.services import api_key_issue


class Command(DomainCommand):
    help = "Issue an API key for a partner (by code) and print it once: only its digest is stored."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("partner", help="the partner's code")
        parser.add_argument("--label", default="", help="what the key is for, shown in the admin")

    def handle(self, *args, **options):
        partner = Partner.objects.filter(code=options["partner"]).first()
        if partner is None:
            raise CommandError(f"no partner with code {options['partner']!r}")
        api_key, key = api_key_issue(partner=partner, label=options["label"])
        result = {"partner": partner.code, "prefix": api_key.prefix, "key": key}
        note = f"(key {api_key.prefix} for {partner.code}: store it now, it is not shown again)"
        self.emit(options, result, f"{key}\n{note}")
