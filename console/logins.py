"""The console's sign-in page: throttled, and every sign-in and failed sign-in written to the tenant's event log.

The audit record of a sign-in comes from ``console.signals`` (any login); the event-log entries come from here, so
they describe sign-ins through the console's form (client "authmon console"), not logins made by scripts or tests.
A failed sign-in for an address that is no console user has no tenant to be logged in; the application log has it.
"""

from __future__ import annotations

import ipaddress
import logging
import math
from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse

from authmon.auditing import CONSOLE_CLIENT
from authmon.models import Tenant, User
from authmon.security import throttle
from authmon.tenancy import db_tenant_set

logger = logging.getLogger("authmon.auth")


def _ip_or_none(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def console_login_event(*, tenant: Tenant, event_type: str, email: str, request: HttpRequest, **details: Any) -> None:
    """One event of the tenant's event log about a sign-in to this console.

    A sign-in page has no tenant of its own: the database tenant of the rest of this request becomes the user's.
    """
    from events.models import EventLog

    db_tenant_set(tenant.pk)
    EventLog.objects.create(
        tenant=tenant,
        event_type=event_type,
        client_name=CONSOLE_CLIENT,
        provider_name="local",
        email=email[:254],
        username=email[:200],
        ip_address=_ip_or_none(throttle.client_ip(request)),
        user_agent=str(request.META.get("HTTP_USER_AGENT", ""))[:1000],
        details=details,
    )


class ConsoleLoginView(auth_views.LoginView):
    """Django's login view, refusing to check passwords while the account or IP is locked out (429)."""

    template_name = "authmon/login.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = str(request.POST.get("username", ""))[:254]
        verdict = throttle.login_throttle_check(request=request, username=username)
        if not verdict.blocked:
            return super().post(request, *args, **kwargs)
        logger.warning("Sign-in refused for %s from %s: locked out", username, throttle.client_ip(request))
        minutes = max(1, math.ceil(verdict.retry_after / 60))
        message = (
            f"Too many failed sign-ins from {verdict.reason}. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )
        context = self.get_context_data(form=self.get_form(), lockout_message=message)
        response = self.render_to_response(context, status=429)
        response["Retry-After"] = str(verdict.retry_after)
        return response

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        throttle.login_success_record(username=user.email)
        console_login_event(
            tenant=user.tenant, event_type="login", email=user.email, request=self.request, role=user.role
        )
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        if any(error.code == "invalid_login" for error in form.errors.as_data().get("__all__", [])):
            self._failure(form.data.get("username", ""))
        return super().form_invalid(form)

    def _failure(self, username: str) -> None:
        username = str(username)[:254]
        locked = throttle.login_failure_record(request=self.request, username=username)
        logger.warning("Failed console sign-in for %s from %s", username, throttle.client_ip(self.request))
        user = User.objects.select_related("tenant").filter(email__iexact=username.strip()).first()
        if user is None:
            return
        console_login_event(
            tenant=user.tenant, event_type="login_failed", email=user.email, request=self.request, reason="bad_password"
        )
        if locked:
            console_login_event(
                tenant=user.tenant,
                event_type="account_locked",
                email=user.email,
                request=self.request,
                reason="too_many_failures",
                lockout_seconds=throttle.lockout_seconds(),
            )
