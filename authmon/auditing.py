"""The framework's port to the audit log: every state change authmon makes is recorded through :func:`audit_record`.

The framework must audit (DESIGN section 4: every state change is audited) but never imports a kind app, so the
audit app plugs its writer in at start-up (``audit.apps``). Without it, recording refuses loudly: a change is never
made unaudited in silence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

CONSOLE_CLIENT = "authmon console"  # the client_actor of what an admin does in the console

_recorder: Callable[..., Any] | None = None


def recorder_set(recorder: Callable[..., Any]) -> None:
    """Called once by the audit app: ``recorder(*, tenant, actor, action, target, subject, old, new, comments,
    client_actor)`` writes one audit record."""
    global _recorder
    _recorder = recorder


def audit_record(
    *,
    tenant: Any,
    actor: str,
    action: str,
    target: str = "",
    subject: str = "",
    old: Any = None,
    new: Any = None,
    comments: str = "",
    client_actor: str = CONSOLE_CLIENT,
) -> Any:
    """Write one audit record for an action taken in authmon itself (actor = the admin); returns the record."""
    if _recorder is None:
        raise ImproperlyConfigured("No audit recorder: the 'audit' app must be in INSTALLED_APPS.")
    return _recorder(
        tenant=tenant,
        actor=actor,
        action=action,
        target=target,
        subject=subject,
        old=old,
        new=new,
        comments=comments,
        client_actor=client_actor,
    )
