"""Console sign-in throttling, per account and per client IP, with counters in the shared cache.

Each failed sign-in counts against the account (the e-mail address tried, whether or not it exists) and against the
client's IP address, in fixed windows of ``AUTHMON_LOGIN_LOCKOUT_SECONDS``. When either count reaches its limit
(``AUTHMON_LOGIN_FAILURES_PER_ACCOUNT``, ``AUTHMON_LOGIN_FAILURES_PER_IP``) the sign-in form answers 429 with
``Retry-After`` until the window ends, without checking the password. A successful sign-in clears the account's count.
The counters live in Django's cache: Redis when ``REDIS_URL`` is set, so every web process shares them.

django-axes does the same with more machinery; it also makes ``authenticate()`` demand a request, which every test
client login and management command would then have to pass, and it has one limit for all lockout parameters where
an IP shared by an office needs a higher one than an account.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

PREFIX = "authmon:login"


def client_ip(request: HttpRequest | None) -> str:
    """The client's address: ``REMOTE_ADDR``, or the last hop of ``AUTHMON_CLIENT_IP_HEADER`` behind a proxy."""
    if request is None:
        return ""
    header = getattr(settings, "AUTHMON_CLIENT_IP_HEADER", "")
    if header and request.META.get(header):
        return request.META[header].split(",")[-1].strip()[:64]
    return str(request.META.get("REMOTE_ADDR", ""))[:64]


def _account_key(username: str) -> str:
    return f"{PREFIX}:account:{hashlib.sha256(username.strip().lower().encode()).hexdigest()}"


def _ip_key(ip: str) -> str:
    return f"{PREFIX}:ip:{ip}"


@dataclass(frozen=True)
class Verdict:
    """Whether a sign-in may be tried now, and if not for how long not."""

    blocked: bool
    retry_after: int = 0
    reason: str = ""


def lockout_seconds() -> int:
    return int(getattr(settings, "AUTHMON_LOGIN_LOCKOUT_SECONDS", 900))


def _count(key: str) -> tuple[int, float]:
    count = cache.get(key)
    until = cache.get(f"{key}:until")
    return int(count or 0), float(until or 0)


def login_throttle_check(*, request: HttpRequest | None, username: str) -> Verdict:
    """Whether this account or this IP has used up its failed sign-ins for the current window."""
    now = time.time()
    checks = [(_account_key(username), settings.AUTHMON_LOGIN_FAILURES_PER_ACCOUNT, "this account")]
    ip = client_ip(request)
    if ip:
        checks.append((_ip_key(ip), settings.AUTHMON_LOGIN_FAILURES_PER_IP, "your network address"))
    for key, limit, what in checks:
        if not limit:
            continue
        count, until = _count(key)
        if count >= limit and until > now:
            return Verdict(True, max(1, math.ceil(until - now)), what)
    return Verdict(False)


def _bump(key: str) -> int:
    window = lockout_seconds()
    cache.add(f"{key}:until", time.time() + window, window)
    cache.add(key, 0, window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        return 1


def login_failure_record(*, request: HttpRequest | None, username: str) -> bool:
    """Count a failed sign-in; True when it has just locked the account."""
    locked = False
    if username:
        locked = _bump(_account_key(username)) == settings.AUTHMON_LOGIN_FAILURES_PER_ACCOUNT
    ip = client_ip(request)
    if ip:
        _bump(_ip_key(ip))
    return locked


def login_success_record(*, username: str) -> None:
    """A correct password clears the account's failures (not the IP's: one good account must not unlock others)."""
    key = _account_key(username)
    cache.delete_many([key, f"{key}:until"])
