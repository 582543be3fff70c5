"""Admin login throttling: a (username, client address) pair is locked out after repeated failures.

The rule: `LOGIN_MAX_FAILURES` failed logins for one username from one address
within `LOGIN_LOCKOUT_SECONDS` lock that pair for `LOGIN_LOCKOUT_SECONDS` from the
failure that reached the limit; while locked, the password is not even checked
(so guessing cannot go on) and attempts do not extend the lock. A successful
login clears the count. Other addresses can still log in as that user, so an
attacker cannot lock staff out of their own account from elsewhere.

Counts live in the Django cache: the embedded local-memory cache counts per
process, a Redis `CACHE_URL` shares one count across processes and machines.
"""

import hashlib

from django.conf import settings
from django.contrib.auth import signals
from django.core.cache import cache
from django.dispatch import receiver


def _limits() -> tuple[int, int]:
    return settings.LOGIN_MAX_FAILURES, settings.LOGIN_LOCKOUT_SECONDS


def client_address(request) -> str:
    # REMOTE_ADDR, not X-Forwarded-For: a client can write any forwarded header. Behind a proxy every
    # client shares the proxy's address, and the rule becomes per username, which is stricter, not weaker.
    return (request.META.get("REMOTE_ADDR") or "unknown") if request is not None else "unknown"


def _key(username: str, address: str) -> str:
    # Hashed: usernames are free text, cache keys must be short and plain.
    digest = hashlib.sha256(f"{username.casefold()}\0{address}".encode()).hexdigest()
    return f"login-failures:{digest}"


def login_locked(*, username: str, address: str) -> bool:
    limit, _ = _limits()
    return (cache.get(_key(username, address)) or 0) >= limit


def login_failure_record(*, username: str, address: str) -> int:
    limit, window = _limits()
    key = _key(username, address)
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    if count == limit:
        cache.touch(key, timeout=window)
    return count


def login_failures_clear(*, username: str, address: str) -> None:
    cache.delete(_key(username, address))


@receiver(signals.user_login_failed)
def _count_failure(sender, credentials, request=None, **kwargs):
    username = credentials.get("username") or ""
    address = client_address(request)
    if not login_locked(username=username, address=address):
        login_failure_record(username=username, address=address)


@receiver(signals.user_logged_in)
def _clear_failures(sender, request, user, **kwargs):
    login_failures_clear(username=user.get_username(), address=client_address(request))
