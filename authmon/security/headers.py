"""No answer of authmon is kept in a browser's or a proxy's cache.

Every page, export, download and API answer shows a tenant's records, so each response leaves with
``Cache-Control: no-store`` (plus Django's other never-cache directives). A shared computer's browser history, its
disk cache and a caching proxy therefore hold nothing of a tenant once the page is closed. Static files are not
affected: WhiteNoise serves them in a middleware placed before this one, so they never pass through it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """Mark every response that reaches it as never to be stored."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response
