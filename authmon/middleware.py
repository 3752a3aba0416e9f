"""Sign-in is required everywhere in the console, decided in one place.

The JSON API authenticates with bearer tokens instead, and static files are public.
"""

from typing import Any

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.http import HttpRequest
from django.utils import timezone


class LoginRequiredMiddleware(DjangoLoginRequired):
    PUBLIC_PREFIXES = ("/api/", "/static/")

    def process_view(self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any) -> Any:
        if request.path.startswith(self.PUBLIC_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class TenantTimezoneMiddleware:
    """Show every time in the active tenant's time zone."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        tenant = getattr(request, "tenant", None)
        if tenant is not None:
            timezone.activate(tenant.tz)
        else:
            timezone.deactivate()
        return self.get_response(request)
