from core.management.base import DomainCommand
from partners.services import partner_create


class Command(DomainCommand):
    help = "Create a channel partner (its API keys come from issue_api_key)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("name")
        parser.add_argument("--code", default="", help="the partner's code (default: made from the name)")

    def handle(self, *args, **options):
        partner = partner_create(name=options["name"], code=options["code"])
        result = {"id": partner.pk, "code": partner.code, "name": partner.name}
        self.emit(options, result, f"partner {partner.code} created (id {partner.pk})")
