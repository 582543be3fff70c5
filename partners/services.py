"""Writes of the partner integration: partners, API keys, webhook endpoints."""

import hashlib
import secrets
import time

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from core.errors import DomainError
from core.validation import text_required
from lending.models import Partner
from partners.models import ApiKey, WebhookEndpoint

KEY_PREFIX = "lpk_"
# Keys are looked up once per process per this many seconds, not on every request: a revocation (or a
# new rate limit) reaches other server processes within it; the revoking process forgets the key at once.
KEY_CACHE_SECONDS = 10
_key_cache: dict[str, tuple[float, ApiKey]] = {}


def api_key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def partner_create(*, name: str, code: str = "") -> Partner:
    name = text_required(name, field="name", max_length=120)
    code = slugify(code or name)[:40]
    if not code:
        raise DomainError("invalid_code", "needs letters or digits to make a code from", field="code")
    if Partner.objects.filter(code=code).exists():
        raise DomainError("partner_exists", f"a partner with code {code!r} exists", field="code")
    partner = Partner(code=code, name=name)
    partner._change_reason = "created by command"
    partner.save()
    return partner


@transaction.atomic
def api_key_issue(*, partner: Partner, label: str = "") -> tuple[ApiKey, str]:
    """A new key for the partner: the row and the key itself, which is never stored and cannot be shown again."""
    if not partner.is_active:
        raise DomainError("partner_inactive", "the partner is not active", field="partner")
    prefix = KEY_PREFIX + secrets.token_hex(4)
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(partner=partner, prefix=prefix, digest=api_key_digest(key), label=label[:80])
    api_key._change_reason = "issued"
    api_key.save()
    return api_key, key


def api_key_authenticate(key: str) -> ApiKey | None:
    """The active key of an active partner matching `key` (with partner and API settings loaded), or None."""
    digest = api_key_digest(key)
    now = time.monotonic()
    cached = _key_cache.get(digest)
    if cached and cached[0] > now:
        return cached[1]
    api_key = (
        ApiKey.objects.select_related("partner", "partner__api_settings")
        .filter(digest=digest, revoked_at__isnull=True, partner__is_active=True)
        .first()
    )
    if api_key is None:
        _key_cache.pop(digest, None)
    else:
        _key_cache[digest] = (now + KEY_CACHE_SECONDS, api_key)
    return api_key


def api_key_cache_clear() -> None:
    _key_cache.clear()


@transaction.atomic
def api_key_revoke(*, api_key_id: int, reason: str) -> ApiKey:
    api_key = ApiKey.objects.select_for_update().get(pk=api_key_id)
    _key_cache.pop(api_key.digest, None)
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key._change_reason = text_required(reason, field="reason", max_length=100)
        api_key.save(update_fields=["revoked_at"])
    return api_key


@transaction.atomic
def webhook_endpoint_set(*, partner: Partner, url: str) -> tuple[WebhookEndpoint, str]:
    """Point the partner's webhooks at `url` with a fresh signing secret (returned once for the partner)."""
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint, _ = WebhookEndpoint.objects.update_or_create(
        partner=partner, defaults={"url": url, "secret": secret, "is_active": True}
    )
    return endpoint, secret
