"""A fixed-window request limit per API token, counted in the shared cache.

``AUTHMON_API_RATE_LIMIT`` requests per ``AUTHMON_API_RATE_WINDOW`` seconds per token (0 switches it off); over the
limit the API answers 429 with ``Retry-After`` (the seconds until the window ends). Windows are aligned to the clock,
so every web process counts into the same key.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache


class RateLimited(Exception):
    """The token has used up its requests for this window."""

    def __init__(self, retry_after: int, limit: int, window: int) -> None:
        super().__init__(f"Rate limit of {limit} requests per {window} seconds exceeded.")
        self.retry_after = retry_after
        self.limit = limit
        self.window = window


def api_rate_check(*, token_id: int) -> None:
    """Count one request of the token; raise :class:`RateLimited` when it is over the limit."""
    limit = int(getattr(settings, "AUTHMON_API_RATE_LIMIT", 0))
    window = int(getattr(settings, "AUTHMON_API_RATE_WINDOW", 60))
    if limit <= 0 or window <= 0:
        return
    now = time.time()
    start = int(now // window) * window
    key = f"authmon:api-rate:{token_id}:{start}"
    cache.add(key, 0, window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # the window just ended under us
        cache.set(key, 1, window + 1)
        count = 1
    if count > limit:
        raise RateLimited(max(1, int(start + window - now + 0.999)), limit, window)
