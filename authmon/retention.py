"""How long each tenant keeps each kind's records: selectors and the one service that changes it.

A tenant's retention is one ``Retention`` row per kind it changed; a kind it never changed keeps the kind's own
``default_retention_days`` (``LogKind``), so a new kind needs no migration of the tenants. 0 days keeps forever.
The nightly trim (``authmon.trim``) reads it; only super admins change it (the Retention page), and every change
is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from authmon import registry

if TYPE_CHECKING:
    from authmon.models import Tenant
    from authmon.registry import LogKind

MAX_DAYS = 36_500  # a hundred years; 0 means keep forever
# A preview counts at most this many rows per kind: counting every row of a huge table to say "a lot" would cost
# as much as the trim. Above it the page says "more than".
PREVIEW_CAP = 100_000


def _kind(kind: LogKind | str) -> LogKind:
    return registry.get(kind) if isinstance(kind, str) else kind


def retention_all(tenant: Tenant) -> dict[str, int]:
    """Days ``tenant`` keeps each registered kind's records, in menu order."""
    from authmon.models import Retention

    chosen = dict(Retention.objects.filter(tenant_id=tenant.pk).values_list("kind", "days"))
    return {kind.name: chosen.get(kind.name, kind.default_retention_days) for kind in registry.kinds()}


def retention_days(tenant: Tenant, kind: LogKind | str) -> int:
    """Days ``tenant`` keeps records of ``kind``; 0 keeps them forever."""
    from authmon.models import Retention

    kind = _kind(kind)
    row = Retention.objects.filter(tenant_id=tenant.pk, kind=kind.name).values_list("days", flat=True).first()
    return kind.default_retention_days if row is None else int(row)


def retention_horizon(kind: LogKind, *, now: dt.datetime) -> dt.datetime | None:
    """The time before which no tenant keeps records of ``kind``; None while any tenant keeps them forever (0)."""
    from authmon.models import Retention, Tenant

    tenants = Tenant.objects.count()
    if not tenants:
        return None
    rows = Retention.objects.filter(kind=kind.name)
    days = set(rows.values_list("days", flat=True).distinct())
    if rows.count() < tenants:  # the tenants without a row keep the default
        days.add(kind.default_retention_days)
    if 0 in days:
        return None
    return now - dt.timedelta(days=max(days))


def retention_set(*, tenant: Tenant, days: dict[str, int], actor: str) -> dict[str, tuple[int, int]]:
    """Change ``tenant``'s retention of the kinds named in ``days`` and audit it; returns {kind: (old, new)}."""
    from authmon.auditing import audit_record
    from authmon.models import Retention, Tenant

    changes: dict[str, tuple[int, int]] = {}
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        current = retention_all(locked)
        for name, value in days.items():
            registry.get(name)  # KeyError for a kind that does not exist
            if not 0 <= value <= MAX_DAYS:
                raise ValueError(f"{name}: retention must be 0 (keep forever) to {MAX_DAYS:,} days, not {value}.")
            if current[name] != value:
                Retention.objects.update_or_create(tenant=locked, kind=name, defaults={"days": value})
                changes[name] = (current[name], value)
        if changes:
            audit_record(
                tenant=locked,
                actor=actor,
                action="update TenantSettings",
                target=f"{locked.slug} retention",
                old={f"retention_{k}_days": old for k, (old, _) in changes.items()},
                new={f"retention_{k}_days": new for k, (_, new) in changes.items()},
                comments="Retention policy changed",
            )
    return changes


@dataclass(frozen=True)
class RetentionCut:
    """What shortening one kind's retention would make the next nightly trim remove: up to ``rows`` records
    (``capped``: more than that), older than the new retention."""

    kind: LogKind
    old_days: int
    new_days: int
    rows: int
    capped: bool


def retention_shortened(*, tenant: Tenant, days: dict[str, int]) -> dict[str, tuple[int, int]]:
    """The kinds whose retention ``days`` would shorten for ``tenant`` (keeping forever is the longest), as
    {kind: (old, new)}; lengthening or unchanged values are not in it."""
    current = retention_all(tenant)
    return {
        name: (current[name], new)
        for name, new in days.items()
        if new > 0 and (current[name] == 0 or new < current[name])
    }


def retention_preview(
    *, tenant: Tenant, days: dict[str, int], now: dt.datetime | None = None, cap: int = PREVIEW_CAP
) -> list[RetentionCut]:
    """For each kind ``days`` shortens, how many of ``tenant``'s records the next trim would then remove: those older
    than the new retention that the kind's trim policy does not keep. Each count stops at ``cap`` + 1 rows, read from
    the kind's (tenant, time) index, so a huge table is never scanned to answer."""
    now = now or timezone.now()
    cuts = []
    for name, (old, new) in retention_shortened(tenant=tenant, days=days).items():
        kind = registry.get(name)
        old_rows = kind.model.objects.for_tenant(tenant).filter(
            **{f"{kind.time_field}__lt": now - dt.timedelta(days=new)}
        )
        keep = kind.trim.keep()
        if keep is not None:
            old_rows = old_rows.exclude(keep)
        found = old_rows.order_by()[: cap + 1].count()
        cuts.append(RetentionCut(kind=kind, old_days=old, new_days=new, rows=min(found, cap), capped=found > cap))
    return sorted(cuts, key=lambda c: (c.kind.menu_order, c.kind.name))
