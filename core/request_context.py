"""Who and what a log line belongs to: the request id and the partner code of the request being served.

`RequestIdMiddleware` takes the caller's `X-Request-ID` (when it is a plain token)
or makes one, returns it on the response, and writes one access log line per
request. The partner code is set by the partner API's authentication once it
knows the caller. Both live in context variables, so every log line written
while the request is served carries them (see core/log_format.py).
"""

import logging
import re
import time
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
partner_code_var: ContextVar[str] = ContextVar("partner_code", default="-")

# Only a plain token is echoed into logs and headers: anything else could forge log lines or headers.
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,100}")

access_log = logging.getLogger("lending.access")


def partner_code_set(code: str) -> None:
    partner_code_var.set(code)


def request_id_from(header: str | None) -> str:
    if header and _REQUEST_ID_RE.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_from(request.headers.get("X-Request-ID"))
        id_token = request_id_var.set(request.request_id)
        partner_token = partner_code_var.set("-")
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.request_id
            access_log.info(
                "%s %s %s",
                request.method,
                request.get_full_path(),
                response.status_code,
                extra={"status": response.status_code, "duration_ms": round((time.perf_counter() - started) * 1000, 1)},
            )
            return response
        finally:
            request_id_var.reset(id_token)
            partner_code_var.reset(partner_token)
