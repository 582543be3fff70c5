"""The partner API's base view: bearer keys only, per-partner rate limit, idempotent writes, body size cap."""

from functools import wraps

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import DomainError
from partners.api.auth import BearerKeyAuthentication, IsPartner, PartnerRateThrottle
from partners.api.errors import PayloadTooLarge, domain_error_body, domain_error_status
from partners.idempotency import (
    KEY_HEADER,
    REPLAY_HEADER,
    Replay,
    idempotency_claim,
    idempotency_complete,
    idempotency_release,
    request_fingerprint,
)

MAX_BODY_BYTES = 64 * 1024
MAX_KEY_LENGTH = 64


class PartnerApiView(APIView):
    authentication_classes = [BearerKeyAuthentication]
    permission_classes = [IsPartner]
    throttle_classes = [PartnerRateThrottle]

    def perform_authentication(self, request):
        super().perform_authentication(request)
        # DRF copies the user onto the Django request, where django-simple-history looks for the staff
        # user behind a change; a partner is not one (the history's change reason names the API instead).
        request._request.user = AnonymousUser()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"the request body must not exceed {MAX_BODY_BYTES} bytes")

    @property
    def partner(self):
        return self.request.user.partner


def _idempotency_key(request) -> str:
    key = request.headers.get(KEY_HEADER, "")
    if not key:
        raise serializers.ValidationError({KEY_HEADER: "required on every POST that creates or moves money"})
    if len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise serializers.ValidationError({KEY_HEADER: f"at most {MAX_KEY_LENGTH} printable ASCII characters"})
    return key


def idempotent(handler):
    """Run a POST handler once per (partner, Idempotency-Key); replay its response to a repeat.

    The handler's effect and the stored response commit in one transaction. A
    refusal by a service (DomainError) is stored and replayed like a success;
    a request refused before it reached a service (invalid fields, an unknown
    id) stores nothing, so the key can be reused with a corrected request.
    The handler receives the key, to pass down to services that keep their own.
    """

    @wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = _idempotency_key(request)
        fingerprint = request_fingerprint(method=request.method, path=request.path, body=request.body)
        claim = idempotency_claim(partner=view.partner, key=key, fingerprint=fingerprint, now=timezone.now())
        if isinstance(claim, Replay):
            return Response(claim.body, status=claim.status_code, headers={REPLAY_HEADER: "true"})
        try:
            with transaction.atomic():
                response = handler(view, request, *args, idempotency_key=key, **kwargs)
                idempotency_complete(record=claim, status_code=response.status_code, body=response.data)
        except DomainError as error:
            if error.code == "not_found":
                idempotency_release(record=claim)
            else:
                idempotency_complete(
                    record=claim, status_code=domain_error_status(error), body=domain_error_body(error)
                )
            raise
        except BaseException:
            idempotency_release(record=claim)
            raise
        response[REPLAY_HEADER] = "false"
        return response

    return wrapper
