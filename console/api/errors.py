"""How the API answers what a route refuses (DESIGN section 6): every refusal is JSON, none is a 500.

A route raises :class:`authmon.api_errors.ApiError` with its status and body; the rest comes from outside the
routes and gets the same shapes here: 401 (with the reason the token check left on the request and a
``WWW-Authenticate`` header), 429 (with ``Retry-After``), 413 for a body Django refuses before a route runs, and
400 ``{"error": "parameter", ...}`` for parameters ninja itself refuses.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError

from authmon.api_auth import failure_reason
from authmon.api_errors import ApiError
from authmon.api_io import too_big_message
from authmon.security.ratelimit import RateLimited


def handlers_install(api: NinjaAPI) -> None:
    """Register the exception handlers that turn each refusal into its JSON answer on ``api``."""

    @api.exception_handler(ApiError)
    def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return api.create_response(request, exc.payload, status=exc.status)

    @api.exception_handler(AuthenticationError)
    def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = api.create_response(request, {"detail": failure_reason(request)}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="authmon"'
        return response

    @api.exception_handler(RateLimited)
    def on_rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
        detail = f"{exc} Retry in {exc.retry_after} seconds."
        response = api.create_response(request, {"detail": detail}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response

    @api.exception_handler(RequestDataTooBig)
    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return api.create_response(request, {"detail": too_big_message()}, status=413)

    @api.exception_handler(NinjaValidationError)
    def on_invalid_params(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        messages = "; ".join(f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg')}" for e in exc.errors)
        return api.create_response(request, {"error": "parameter", "param": None, "message": messages}, status=400)
