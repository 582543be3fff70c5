"""Bearer-key authentication and the per-partner rate limit of the partner API.

Only `Authorization: Bearer <key>` authenticates: the API views use no
session authentication, so a staff login in the same browser reaches nothing.
"""

import math
import time
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.throttling import BaseThrottle

from core.request_context import partner_code_set
from lending.models import Partner
from partners.models import ApiKey, PartnerApiSettings
from partners.services import api_key_authenticate

# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
RATE_WINDOW_SECONDS = 60


@dataclass(frozen=True)
class PartnerPrincipal:
    """The authenticated caller of the partner API: a partner, through one of its keys."""

    partner: Partner
    api_key: ApiKey
    is_authenticated = True
    is_staff = False


class BearerKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key or len(key) > 200:
            raise exceptions.AuthenticationFailed("use 'Authorization: Bearer <key>'")
        api_key = api_key_authenticate(key)
        if api_key is None:
            raise exceptions.AuthenticationFailed("unknown or revoked API key")
        now = timezone.now()
        if api_key.last_used_at is None or api_key.last_used_at < now - LAST_USED_RESOLUTION:
            api_key.last_used_at = now
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        partner_code_set(api_key.partner.code)
        return PartnerPrincipal(partner=api_key.partner, api_key=api_key), api_key

    def authenticate_header(self, request):
        return 'Bearer realm="partner-api"'


class IsPartner(BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.user, PartnerPrincipal)


class PartnerRateThrottle(BaseThrottle):
    """A fixed one-minute window per partner, counted in the Django cache (atomic add + incr).

    With the default local-memory cache each process counts for itself, so
    N server processes allow up to N × the limit; set CACHE_URL to a Redis
    cache for one shared count.
    """

    def allow_request(self, request, view):
        partner = request.user.partner
        try:
            limit = partner.api_settings.requests_per_minute
        except ObjectDoesNotExist:
            limit = PartnerApiSettings.DEFAULT_REQUESTS_PER_MINUTE
        now = time.time()
        window = int(now // RATE_WINDOW_SECONDS)
        key = f"partner-api-rate:{partner.pk}:{window}"
        cache.add(key, 0, timeout=RATE_WINDOW_SECONDS * 2)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=RATE_WINDOW_SECONDS * 2)
            count = 1
        self.retry_after = math.ceil((window + 1) * RATE_WINDOW_SECONDS - now)
        return count <= limit

    def wait(self):
        return self.retry_after
