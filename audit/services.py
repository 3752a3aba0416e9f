"""Writing audit records. Every state change in authmon goes through :func:`audit_record`."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from audit.models import AuditLog
from authmon.auditing import CONSOLE_CLIENT
from authmon.models import Tenant

API_CLIENT = "authmon API"  # changes made by a batch sent to the HTTP API; the actor names its token


def audit_record(
    *,
    tenant: Tenant,
    actor: str,
    action: str,
    target: str = "",
    subject: str = "",
    old: Any = None,
    new: Any = None,
    comments: str = "",
    client_actor: str = CONSOLE_CLIENT,
) -> AuditLog:
    """Write one audit record for an action taken in authmon itself (actor = the admin)."""
    return AuditLog.objects.create(
        tenant=tenant,
        actor=actor,
        action=action,
        target=target[:300],
        subject=subject[:300],
        old_entity=old,
        new_entity=new,
        comments=comments,
        client_actor=client_actor,
        timestamp=timezone.now(),
    )
