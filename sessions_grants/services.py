"""Revoking sessions and grants. Each revocation is immediate in authmon, audited, and visible to the identity
service through the revocations feed and, when the tenant has one, pushed to its webhook (sessions_grants.webhooks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from sessions_grants.models import AccessStatus, Grant, Session, status_q
from sessions_grants.selectors import user_aliases, users_match
from sessions_grants.webhooks import revocations_queue


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
    """Revoke a session now; the user must sign in again. Access tokens already issued live until they expire.

    Returns False (and changes nothing) when it was already revoked.
    """
    with transaction.atomic():
        subject = session.email or session.user_id
        changed = _revoke(session, actor=actor, comment=comment, resource="Session", subject=subject)
        if changed:
            revocations_queue(tenant=session.tenant, records=[session])
    return changed


def grant_revoke(*, grant: Grant, actor: Any, comment: str = "") -> bool:
    """Revoke a grant now; all refresh tokens issued under it stop working. False when it was already revoked."""
    with transaction.atomic():
        changed = _revoke(grant, actor=actor, comment=comment, resource="Grant", subject=grant.email or grant.user_id)
        if changed:
            revocations_queue(tenant=grant.tenant, records=[grant])
    return changed


@dataclass
class ContainResult:
    """What a mass revocation did: the rows it revoked and the webhook push it queued (None without a webhook)."""

    sessions: list[Session] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    job: Any = None


def user_revoke_all(
    *, user: str, actor: Any, tenant: Any, sessions: bool = True, grants: bool = True, comment: str = ""
) -> ContainResult:
    """Revoke every active session and/or grant of one user in ``tenant`` (mass revocation, account containment).
    ``user`` is an e-mail address or a user id; rows that know the user only by the other one are included
    (see :func:`~sessions_grants.selectors.user_aliases`).

    All or nothing, in one transaction; one audit record per revoked row, one webhook push for the lot. Rows past
    their expiry are already expired and left alone.
    """
    result = ContainResult()
    match = users_match([user, *user_aliases(user=user, tenant=tenant)]) & status_q(AccessStatus.ACTIVE)
    with transaction.atomic():
        if sessions:
            for s in Session.objects.for_tenant(tenant).filter(match).order_by("pk"):
                subject = s.email or s.user_id
                if _revoke(s, actor=actor, comment=comment, resource="Session", subject=subject):
                    result.sessions.append(s)
        if grants:
            for g in Grant.objects.for_tenant(tenant).filter(match).order_by("pk"):
                subject = g.email or g.user_id
                if _revoke(g, actor=actor, comment=comment, resource="Grant", subject=subject):
                    result.grants.append(g)
        result.job = revocations_queue(tenant=tenant, records=[*result.sessions, *result.grants])
    return result
