"""Payment gateway adapters behind one small interface, looked up by code (settings.PAYMENTS_GATEWAYS)."""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from core.errors import DomainError
from payments.gateways.base import Gateway


@cache
def _gateway(code: str, path: str) -> Gateway:
    return import_string(path)(code=code)


def gateway_get(code: str) -> Gateway:
    """The adapter registered under `code`; an unknown code is a DomainError naming the gateway."""
    path = settings.PAYMENTS_GATEWAYS.get(code) if isinstance(code, str) else None
    if path is None:
        raise DomainError("unknown_gateway", f"no payment gateway {code!r}", field="gateway")
    return _gateway(code, path)
