"""Menu, active tenant and role facts for the base layout."""

from typing import Any

from django.http import HttpRequest

from authmon import registry
from authmon.permissions import Perm, has_perm


def console(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {}
    from authmon.models import Tenant

    return {
        "menu_kinds": list(registry.kinds()),
        "active_tenant": getattr(request, "tenant", None),
        "can_switch_tenant": has_perm(user, Perm.SWITCH_TENANT),
        "can_set_retention": has_perm(user, Perm.SET_RETENTION),
        "can_manage_api_tokens": has_perm(user, Perm.MANAGE_API_TOKENS),
        "switch_tenants": Tenant.objects.only("slug", "name") if has_perm(user, Perm.SWITCH_TENANT) else [],
    }
