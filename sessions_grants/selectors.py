"""Reading sessions and grants: those of one user (by e-mail or user id, and by the other name the rows give them),
and what a bulk revocation from the list would revoke."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone

from authmon.models import Tenant
from authmon.registry import LogKind
from authmon.selectors import LogSearch, log_search
from sessions_grants.models import BULK_REVOKE_MAX, AccessStatus, Grant, Session, status_q
from sessions_grants.webhooks import deliveries_attach


def user_match(user: str) -> Q:
    """Sessions and grants of a user named by e-mail or by user id."""
    return Q(email__iexact=user) | Q(user_id=user)


def users_match(names: Iterable[str]) -> Q:
    q = Q()
    for name in names:
        q |= user_match(name)
    return q


def user_aliases(*, user: str, tenant: Tenant | None, limit: int = 5) -> list[str]:
    """The other names sessions and grants know this user by in ``tenant``: the user ids that go with an e-mail
    address, or the e-mail addresses that go with a user id. A session sent with only a user id is thereby still
    found (and revoked) when the admin starts from the e-mail address."""
    if tenant is None:
        return []
    other = "user_id" if "@" in user else "email"
    found: list[str] = []
    for model in (Session, Grant):
        values = (
            model.objects.for_tenant(tenant)
            .filter(user_match(user))
            .exclude(**{other: ""})
            .values_list(other, flat=True)
            .order_by(other)
            .distinct()[:limit]
        )
        found.extend(v for v in values if v.lower() != user.lower() and v not in found)
    return found[:limit]


def user_access(*, names: list[str], viewer: Any, limit: int = 50) -> tuple[list[Session], list[Grant]]:
    """A user's sessions and grants, newest first, as ``viewer`` may see them, each with its webhook delivery."""
    match = users_match(names)
    sessions = list(Session.objects.for_user(viewer).filter(match).order_by("-created_at", "-pk")[:limit])
    grants = list(Grant.objects.for_user(viewer).filter(match).order_by("-created_at", "-pk")[:limit])
    deliveries_attach([*sessions, *grants])
    return sessions, grants


def user_active_access(*, names: list[str], viewer: Any, limit: int = 200) -> tuple[list[Session], list[Grant]]:
    """What "revoke all" would revoke now: the user's sessions and grants that are active and not past expiry."""
    match = users_match(names) & status_q(AccessStatus.ACTIVE)
    sessions = Session.objects.for_user(viewer).filter(match).order_by("-created_at", "-pk")
    grants = Grant.objects.for_user(viewer).filter(match).order_by("-created_at", "-pk")
    return list(sessions[:limit]), list(grants[:limit])


PREVIEW_ROWS = 100  # rows a bulk revocation's confirmation lists; its count is always exact


@dataclass
class RevokePreview:
    """What a bulk revocation would revoke now, for its confirmation: the exact ``count``, the keys the confirmed
    form will name (``ids``; empty when over :data:`BULK_REVOKE_MAX` or unreadable), the first rows, oldest first.

    ``older_than`` is None for rows chosen by checkbox, whose chosen rows that are no longer active are counted in
    ``not_active``; else the age in days, the rows being those the list's own filters (``search``) show that are
    active and were created before ``cutoff``.
    """

    count: int = 0
    ids: list[int] = field(default_factory=list)
    rows: list[Session | Grant] = field(default_factory=list)
    not_active: int = 0
    older_than: int | None = None
    cutoff: dt.datetime | None = None
    search: LogSearch | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def too_many(self) -> bool:
        return self.count > BULK_REVOKE_MAX


def revoke_preview_selected(*, kind: LogKind, viewer: Any, pks: list[int]) -> RevokePreview:
    """The rows of ``pks`` that ``viewer``'s tenant holds and that are active; another tenant's keys match nothing."""
    preview = RevokePreview(count=len(set(pks)))
    if preview.too_many:
        return preview
    rows = list(kind.model.objects.for_user(viewer).filter(pk__in=pks).order_by(kind.time_field, "pk"))
    active = [row for row in rows if row.effective_status == AccessStatus.ACTIVE]
    preview.count, preview.not_active = len(active), len(rows) - len(active)
    preview.ids, preview.rows = sorted(row.pk for row in active), active[:PREVIEW_ROWS]
    return preview


def revoke_preview_older(
    *, kind: LogKind, viewer: Any, params: QueryDict, days: int, now: dt.datetime | None = None
) -> RevokePreview:
    """The active rows that the list at ``params`` selects and that were created more than ``days`` days ago.

    Read by :func:`~authmon.selectors.log_search`, as the list itself is; a filter or question the list could not
    read selects nothing here (the list shows its rows without it, which a revocation must not silently widen to).
    """
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    search = log_search(kind, viewer, params, now=now)
    preview = RevokePreview(older_than=days, cutoff=cutoff, search=search, errors=list(search.errors))
    if search.question_error is not None:
        preview.errors.append(f"The question could not be understood: {search.question_error.message}")
    if preview.errors:
        return preview
    queryset = search.queryset.filter(status_q(AccessStatus.ACTIVE, now=now), **{f"{kind.time_field}__lt": cutoff})
    preview.count = queryset.count()
    if preview.count and not preview.too_many:
        preview.ids = sorted(queryset.values_list("pk", flat=True))
        preview.rows = list(queryset.order_by(kind.time_field, "pk")[:PREVIEW_ROWS])
    return preview
