"""The role table of DESIGN section 4, in one place. Views, templates and the API all ask :func:`has_perm`."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from authmon.models import Role


class Perm(StrEnum):
    VIEW = "view"
    EXPORT = "export"
    REVOKE = "revoke"
    RESTORE = "restore"
    SWITCH_TENANT = "switch_tenant"
    SET_RETENTION = "set_retention"
    RETRY = "retry"
    VERIFY = "verify"
    MANAGE_ALERTS = "manage_alerts"  # alert rules and detection thresholds (insights)
    RECORD_REVIEW = "record_review"  # leave a note when a security review is done (insights)
    MANAGE_API_TOKENS = "manage_api_tokens"  # list and revoke a tenant's API tokens (operator)


_ADMINS = frozenset({Role.TENANT_ADMIN, Role.SUPER_ADMIN})
_SUPER = frozenset({Role.SUPER_ADMIN})
_ALL = frozenset(Role)

# (permission, kind or None for "any kind") -> roles allowed. Kinds are the API names of DESIGN section 5.
_TABLE: dict[tuple[Perm, str | None], frozenset[str]] = {
    (Perm.VIEW, None): _ALL,
    (Perm.EXPORT, None): _ADMINS,
    (Perm.EXPORT, "audit"): _SUPER,
    (Perm.REVOKE, "sessions"): _ADMINS,
    (Perm.REVOKE, "grants"): _ADMINS,
    (Perm.RESTORE, "audit"): _SUPER,
    (Perm.VERIFY, "audit"): _SUPER,
    (Perm.RETRY, "jobs"): _ADMINS,
    (Perm.SWITCH_TENANT, None): _SUPER,
    (Perm.SET_RETENTION, None): _SUPER,
    (Perm.MANAGE_API_TOKENS, None): _SUPER,
    (Perm.MANAGE_ALERTS, None): _ADMINS,
    (Perm.RECORD_REVIEW, None): _ADMINS,
}


def has_perm(user: Any, perm: Perm | str, kind: str | None = None) -> bool:
    """Whether ``user`` may do ``perm`` (on records of ``kind``). Unknown combinations are refused."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    perm = Perm(perm)
    roles = _TABLE.get((perm, kind))
    if roles is None:
        roles = _TABLE.get((perm, None), frozenset())
        if perm in (Perm.REVOKE, Perm.RESTORE, Perm.RETRY):
            roles = frozenset()
    return user.role in roles
