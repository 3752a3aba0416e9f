"""Reading sessions and grants of one user: by e-mail or user id, and by the other name the rows give them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from authmon.models import Tenant
from sessions_grants.models import AccessStatus, Grant, Session, status_q
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
