"""No request value holds a NUL character: a request with one is refused at the door, with a 400 that says where.

PostgreSQL cannot store U+0000 in text or JSON, and a query that compares a column with such a value fails in the
database: a NUL that reaches a search, a filter, a user or client URL, a comment or an audit record was a 500. No
authmon value (an e-mail, an id, a search, a filter, a comment, a user agent) can contain one, so
:class:`NulRefusalMiddleware` answers a request whose path, query string, headers or form fields hold one with 400
before its view runs: the console with a page naming the place, the API with its usual ``{"error": "parameter",
...}``. One check for every URL, now and later, instead of one per view.

It runs after the CSRF check and the sign-in redirect (last in ``MIDDLEWARE``, as ``process_view``): an anonymous
or forged request meets those first, and by then the CSRF check has already parsed any form body, so reading the
form fields here costs nothing more. Views exempt from CSRF (the API, which reads JSON bodies itself) keep their
bodies unread.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

NUL = "\x00"
API_PREFIX = "/api/"


def nul_place(request: HttpRequest, view_func: Any) -> tuple[str | None, str] | None:
    """Where the request carries a NUL, as (parameter name or None, words for a person), or None when nowhere."""
    if NUL in request.path:
        return None, "The address"
    for key, value in request.META.items():
        # Headers are stored too (the user agent of a sign-in); gunicorn refuses a NUL in one, other servers may not.
        if key.startswith("HTTP_") and isinstance(value, str) and NUL in value:
            header = key.removeprefix("HTTP_").replace("_", "-").title()
            return None, f"The header '{header}'"
    for name, values in request.GET.lists():
        if NUL in name or any(NUL in value for value in values):
            shown = name.replace(NUL, "")
            return shown, f"The parameter '{shown}'"
    if request.method == "POST" and not getattr(view_func, "csrf_exempt", False):
        for name, values in request.POST.lists():
            if NUL in name or any(NUL in value for value in values):
                shown = name.replace(NUL, "")
                return shown, f"The form field '{shown}'"
    return None


def nul_message(where: str) -> str:
    return f"{where} contains a NUL character (%00), which no value in authmon can hold. Remove it and try again."


class NulRefusalMiddleware:
    """Answer 400 to a request with a NUL character in its path, query, headers or form fields (module docstring)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any) -> Any:
        found = nul_place(request, view_func)
        if found is None:
            return None
        param, where = found
        message = nul_message(where)
        if request.path.startswith(API_PREFIX):
            return JsonResponse({"error": "parameter", "param": param, "message": message}, status=400)
        return render(request, "authmon/bad_request.html", {"message": message}, status=400)
