"""Which tenant a request acts on.

Every user belongs to one tenant. A super admin may switch to any tenant; the choice lives in the session and is
attached to ``request.user`` by :class:`TenantMiddleware`, so ``for_user(user)`` never needs the request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from collections.abc import Callable

    from authmon.models import Tenant, User

SESSION_KEY = "authmon_active_tenant"


def active_tenant_for(user: User) -> Tenant | None:
    """The tenant whose records ``user`` sees now: their own, or the one a super admin switched to."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    chosen = getattr(user, "_active_tenant", None)
    if chosen is not None and user.is_super_admin:
        return chosen
    return user.tenant


def switch_tenant(request: HttpRequest, tenant: Tenant) -> None:
    """Make ``tenant`` the active tenant of a super admin's session."""
    user = request.user
    if not getattr(user, "is_super_admin", False):
        raise PermissionError("Only super admins can switch tenant.")
    request.session[SESSION_KEY] = tenant.pk
    user._active_tenant = tenant  # type: ignore[union-attr]


class TenantMiddleware:
    """Attach a super admin's chosen tenant to ``request.user`` and expose ``request.tenant``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from authmon.models import Tenant

        user = request.user
        request.tenant = None  # type: ignore[attr-defined]
        if user.is_authenticated:
            tenant_id = request.session.get(SESSION_KEY)
            if tenant_id and user.is_super_admin:
                user._active_tenant = Tenant.objects.filter(pk=tenant_id).first()  # type: ignore[union-attr]
            request.tenant = active_tenant_for(user)  # type: ignore[attr-defined,arg-type]
        return self.get_response(request)
