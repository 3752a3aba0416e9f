"""Revoking sessions and grants. Each revocation is immediate in authmon, audited, and visible to the identity
service through the revocations feed and, when the tenant has one, pushed to its webhook (sessions_grants.webhooks).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.models import AuditLog
from audit.services import API_CLIENT, audit_record
from authmon.models import ApiToken, Tenant
from authmon.registry import LogKind
from sessions_grants.models import (
    BULK_REVOKE_MAX,
    AccessStatus,
    Grant,
    RevocationKeptReport,
    Session,
    status_q,
)
from sessions_grants.selectors import user_aliases, users_match
from sessions_grants.webhooks import revocations_queue


def _snapshot(obj: Session | Grant) -> dict[str, Any]:
    return {"status": obj.status, "revoked_at": obj.revoked_at.isoformat() if obj.revoked_at else None}


def _revoke(obj: Session | Grant, *, actor: Any, comment: str, subject: str) -> bool:
    """Revoke one row under a row lock. Returns False when it was already revoked (revoking twice is harmless)."""
    model = type(obj)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=obj.pk)
        if locked.status == AccessStatus.REVOKED:
            return False
        _revoke_locked(locked, actor=actor, comment=comment, tenant=locked.tenant, subject=subject)
        obj.status, obj.revoked_at = locked.status, locked.revoked_at
    return True


def _revoke_locked(locked: Session | Grant, *, actor: Any, comment: str, tenant: Tenant, subject: str) -> None:
    """Mark a row the caller holds locked as revoked and write its audit record (one per revocation)."""
    old = _snapshot(locked)
    locked.status = AccessStatus.REVOKED
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["status", "revoked_at"])
    audit_record(
        tenant=tenant,
        actor=actor.email,
        action=f"revoke {type(locked).__name__}",
        target=str(locked),
        subject=subject,
        old=old,
        new=_snapshot(locked),
        comments=comment.strip()[:2000],
    )


def session_revoke(*, session: Session, actor: Any, comment: str = "") -> bool:
    """Revoke a session now; the user must sign in again. Access tokens already issued live until they expire.

    Returns False (and changes nothing) when it was already revoked.
    """
    with transaction.atomic():
        subject = session.email or session.user_id
        changed = _revoke(session, actor=actor, comment=comment, subject=subject)
        if changed:
            revocations_queue(tenant=session.tenant, records=[session])
    return changed


def grant_revoke(*, grant: Grant, actor: Any, comment: str = "") -> bool:
    """Revoke a grant now; all refresh tokens issued under it stop working. False when it was already revoked."""
    with transaction.atomic():
        changed = _revoke(grant, actor=actor, comment=comment, subject=grant.email or grant.user_id)
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
                if _revoke(s, actor=actor, comment=comment, subject=subject):
                    result.sessions.append(s)
        if grants:
            for g in Grant.objects.for_tenant(tenant).filter(match).order_by("pk"):
                subject = g.email or g.user_id
                if _revoke(g, actor=actor, comment=comment, subject=subject):
                    result.grants.append(g)
        result.job = revocations_queue(tenant=tenant, records=[*result.sessions, *result.grants])
    return result


class BulkRevokeTooLarge(ValueError):
    """A bulk revocation named more rows than :data:`BULK_REVOKE_MAX`; nothing was revoked."""


@dataclass
class BulkRevokeResult:
    """What a bulk revocation did: the rows it revoked, how many of the named rows were no longer active (left
    alone, not audited again), how many named no row of the tenant, and the webhook push (None without a webhook)."""

    revoked: list[Session | Grant] = field(default_factory=list)
    skipped: int = 0
    not_found: int = 0
    job: Any = None


def records_revoke(
    *, model: type[Session] | type[Grant], tenant: Tenant, pks: Iterable[int], actor: Any, comment: str
) -> BulkRevokeResult:
    """Revoke the sessions or grants of ``tenant`` whose primary keys are ``pks`` (bulk revocation from the list).

    The keys come from a browser and are trusted for nothing: only rows of ``tenant`` are read, so another tenant's
    key is counted as not found and never touched. All the rows are locked at once, in key order, and each is
    revoked only if it is still active now (not revoked, not past its expiry): a confirmation that went stale, or the
    same form sent twice, revokes and audits nothing twice. One audit record per revocation, each with ``comment``;
    one webhook push for the lot, in the same transaction. More than :data:`BULK_REVOKE_MAX` keys raise
    :class:`BulkRevokeTooLarge` before anything is read.
    """
    wanted = sorted(set(pks))
    if len(wanted) > BULK_REVOKE_MAX:
        raise BulkRevokeTooLarge(
            f"{len(wanted):,} {model._meta.verbose_name_plural} named; one action revokes at most {BULK_REVOKE_MAX:,}."
        )
    result = BulkRevokeResult()
    with transaction.atomic():
        rows = list(model.objects.for_tenant(tenant).select_for_update().filter(pk__in=wanted).order_by("pk"))
        result.not_found = len(wanted) - len(rows)
        for row in rows:
            if row.effective_status != AccessStatus.ACTIVE:
                result.skipped += 1
                continue
            _revoke_locked(row, actor=actor, comment=comment, tenant=tenant, subject=row.email or row.user_id)
            result.revoked.append(row)
        result.job = revocations_queue(tenant=tenant, records=result.revoked)
    return result


# ---------------------------------------------------------------------------------------- revoked is final (ingest)

KEPT_REVOKED = "kept_revoked"  # new_entity key of the audit record: the kept ids
KEPT_IDS_MAX = 1000  # ids named in one audit record; the count is always exact


def kept_revoked_action(model: type[Session] | type[Grant]) -> str:
    """The audit action for ingest reporting a revoked row of ``model`` as not revoked: "update Session"."""
    return f"update {model.__name__}"


def _ids_text(values: list[str], limit: int = 300) -> str:
    """``a, b, c``, or as many as fit in ``limit`` characters and "and N more"."""
    text = ", ".join(values)
    if len(text) <= limit:
        return text
    shown: list[str] = []
    for value in values:
        if len(", ".join([*shown, value]) + f" and {len(values) - len(shown) - 1} more") > limit:
            break
        shown.append(value)
    return (", ".join(shown) + f" and {len(values) - len(shown)} more").strip()[:limit]


def revocations_kept_audit(
    *,
    kind: LogKind,
    tenant: Tenant,
    rows: list[Session | Grant],
    records: int,
    statuses: list[str],
    actor: str,
    token: ApiToken | None = None,
) -> AuditLog:
    """Audit an ingested batch that reported revoked sessions or grants as active or expired (DESIGN section 6).

    authmon.ingest has kept them revoked (the ``kept_revoked_audit`` hook of both kinds); this is the batch's one
    audit record, never one per record (a replay of 10,000 records writes one row), so that the attempt is on file
    with who sent it, and Insights can flag it ("revoked session reported active", :mod:`insights.detections`).

    - action "update Session" / "update Grant": the batch asked for an update. DESIGN section 5's verbs have nothing
      closer, and "revoke" stays reserved for revocations, which this is not (nothing is announced again).
    - actor: who sent the batch (the API names its token), client_actor "authmon API".
    - target: the kept ids; subject: their user when they all belong to one (a replay after "Contain account").
    - old and new both say revoked; new also names the kept ids (``kept_revoked``, at most ``KEPT_IDS_MAX``), their
      exact number and the statuses the batch reported.

    In the same transaction it keeps the same facts in a :class:`RevocationKeptReport`, with ``token`` (the API
    token that sent the batch, None for a caller without one), which is what Insights reads: audit records are an
    ingestible kind, so a forged one must neither hide this report nor put another token's name on one.
    """
    ids = [str(getattr(row, kind.upsert_key or "pk")) for row in rows]
    users = {row.email or row.user_id for row in rows}
    noun, them = (kind.singular.lower(), "it") if len(ids) == 1 else (kind.noun, "them")
    reported = " or ".join(statuses)
    RevocationKeptReport.objects.create(
        tenant=tenant,
        kind=kind.name,
        token=token,
        token_label=actor[:300],
        kept_ids=ids[:KEPT_IDS_MAX],
        kept_count=len(ids),
        reported_status=statuses,
    )
    return audit_record(
        tenant=tenant,
        actor=actor,
        action=kept_revoked_action(kind.model),
        target=_ids_text(ids),
        subject=users.pop() if len(users) == 1 else "",
        old={"status": AccessStatus.REVOKED.value},
        new={
            "status": AccessStatus.REVOKED.value,
            KEPT_REVOKED: ids[:KEPT_IDS_MAX],
            "kept_revoked_count": len(ids),
            "reported_status": statuses,
        },
        comments=f"An ingested batch reported {len(ids)} revoked {noun} as {reported} ({records} record"
        f"{'s' if records != 1 else ''}); authmon kept {them} revoked, as revocation is final. If the identity "
        f"service still treats {them} as valid, the revocation has not reached it.",
        client_actor=API_CLIENT,
    )
