"""Console sign-ins are state changes too: each one writes an audit record in the user's tenant."""

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver


@receiver(user_logged_in)
def audit_console_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from audit.services import audit_record
    from authmon.tenancy import db_tenant_set

    db_tenant_set(user.tenant_id)  # signed in now: the request's database tenant is the user's own
    audit_record(
        tenant=user.tenant,
        actor=user.email,
        action="login Console",
        target=user.email,
        comments=f"Signed in to authmon from {request.META.get('REMOTE_ADDR', 'unknown')}" if request else "",
    )
