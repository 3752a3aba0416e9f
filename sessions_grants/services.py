"""Revoking sessions and grants. Each revocation is immediate in authmon, audited, and visible to the identity
service through the revocations feed (and its webhook, when one is configured)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_record
from sessions_grants.models import AccessStatus, Grant, Session


def _snapshot(obj: Session | Grant) -> dict[str, Any]:
    return {"status": obj.status, "revoked_at": obj.revoked_at.isoformat() if obj.revoked_at else None}


def _revoke(obj: Session | Grant, *, actor: Any, comment: str, resource: str, subject: str) -> bool:
    """Revoke one row under a row lock. Returns False when it was already revoked (revoking twice is harmless)."""
    model = type(obj)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=obj.pk)
        if locked.status == AccessStatus.REVOKED:
            return False
        old = _snapshot(locked)
        locked.status = AccessStatus.REVOKED
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["status", "revoked_at"])
        audit_record(
            tenant=locked.tenant,
            actor=actor.email,
            action=f"revoke {resource}",
            target=getattr(locked, "session_id" if resource == "Session" else "grant_id"),
            subject=subject,
            old=old,
            new=_snapshot(locked),
            comments=comment.strip()[:2000],
        )
        obj.status, obj.revoked_at = locked.status, locked.revoked_at
    return True


def session_revoke(*, session: Session, actor: Any, comment: str = "") -> bool:
    """Revoke a session now; the user must sign in again. Access tokens already issued live until they expire."""
    return _revoke(session, actor=actor, comment=comment, resource="Session", subject=session.email or session.user_id)


def grant_revoke(*, grant: Grant, actor: Any, comment: str = "") -> bool:
    """Revoke a grant now; all refresh tokens issued under it stop working."""
    return _revoke(grant, actor=actor, comment=comment, resource="Grant", subject=grant.email or grant.user_id)


@dataclass
class ContainResult:
    sessions: list[Session] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)


def user_match(user: str) -> Q:
    """Sessions and grants of a user named by e-mail or by user id."""
    return Q(email__iexact=user) | Q(user_id=user)


def user_revoke_all(
    *, user: str, actor: Any, tenant: Any, sessions: bool = True, grants: bool = True, comment: str = ""
) -> ContainResult:
    """Revoke every active session and/or grant of one user in ``tenant`` (mass revocation, account containment)."""
    result = ContainResult()
    if sessions:
        for s in Session.objects.for_tenant(tenant).filter(user_match(user), status=AccessStatus.ACTIVE):
            if session_revoke(session=s, actor=actor, comment=comment):
                result.sessions.append(s)
    if grants:
        for g in Grant.objects.for_tenant(tenant).filter(user_match(user), status=AccessStatus.ACTIVE):
            if grant_revoke(grant=g, actor=actor, comment=comment):
                result.grants.append(g)
    return result
