"""Retention and housekeeping, walking the registry rather than one task per kind.

- trim: delete each kind's records older than the tenant's retention, in small batches so no table is locked
  for long; the audit log is archived (a sealed export file) before any of it is deleted.
- cleanup: sessions and grants past ``expires_at`` become expired; export files past their time are removed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from authmon import registry
from authmon.exports import stream_json
from authmon.models import Tenant

TRIM_BATCH = 5_000


@dataclass
class TrimReport:
    deleted: dict[str, int] = field(default_factory=dict)
    archives: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{n:,} {kind}" for kind, n in self.deleted.items() if n]
        text = "Deleted " + ", ".join(parts) if parts else "Nothing past retention"
        if self.archives:
            text += f"; audit archived to {', '.join(self.archives)}"
        return text + "."


def archive_dir() -> Path:
    path = Path(settings.AUTHMON_ARCHIVE_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def audit_archive(*, tenant: Tenant, before: dt.datetime, progress: Any = None) -> tuple[Path | None, int]:
    """Write a sealed export of the tenant's audit records older than ``before``; None when there are none."""
    kind = registry.get("audit")
    queryset = kind.model.objects.for_tenant(tenant).filter(timestamp__lt=before).order_by("timestamp", "pk")
    if not queryset.exists():
        return None, 0
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
    path = archive_dir() / f"audit-{tenant.slug}-before-{before:%Y%m%d}-{stamp}.json"
    tmp = path.with_suffix(".part")
    total = {"n": 0}

    def tick(done: int, count: int) -> None:
        total["n"] = done
        if progress:
            progress(done, count)

    filters = {"before": before.isoformat(), "reason": "retention archive"}
    with tmp.open("w", encoding="utf-8") as out:
        for piece in stream_json(kind, queryset, tenant_slug=tenant.slug, filters=filters, limit=10**12, progress=tick):
            out.write(piece)
    tmp.replace(path)
    return path, total["n"]


def _delete_batches(queryset: Any, *, purge: bool) -> int:
    deleted = 0
    while True:
        ids = list(queryset.values_list("pk", flat=True)[:TRIM_BATCH])
        if not ids:
            return deleted
        with transaction.atomic():
            batch = queryset.model.objects.filter(pk__in=ids)
            deleted += batch.purge_expired() if purge else batch.delete()[0]


def tenant_trim(*, tenant: Tenant, now: dt.datetime | None = None, progress: Any = None) -> TrimReport:
    """Apply the tenant's retention to every kind (0 days = keep forever). Audit is archived first."""
    now = now or timezone.now()
    report = TrimReport()
    for kind in registry.kinds():
        days = tenant.retention_days(kind.name)
        if days <= 0:
            continue
        cutoff = now - dt.timedelta(days=days)
        if kind.name == "audit":
            path, _ = audit_archive(tenant=tenant, before=cutoff, progress=progress)
            if path is not None:
                report.archives.append(path.name)
        old = kind.model.objects.for_tenant(tenant).filter(**{f"{kind.time_field}__lt": cutoff})
        if kind.name == "jobs":
            old = old.exclude(latest_status__in=["pending", "running"])
        report.deleted[kind.name] = _delete_batches(old, purge=kind.name == "audit")
    return report


@dataclass
class CleanupReport:
    sessions_expired: int = 0
    grants_expired: int = 0
    files_removed: int = 0

    def summary(self) -> str:
        return (
            f"{self.sessions_expired:,} sessions and {self.grants_expired:,} grants expired; "
            f"{self.files_removed} export files removed."
        )


def expired_access_mark(*, tenant: Tenant | None = None, now: dt.datetime | None = None) -> tuple[int, int]:
    """Sessions and grants whose ``expires_at`` has passed become expired."""
    now = now or timezone.now()
    counts = []
    for name in ("sessions", "grants"):
        model = registry.get(name).model
        qs = model.objects.filter(status="active", expires_at__lt=now)
        if tenant is not None:
            qs = qs.for_tenant(tenant)
        counts.append(qs.update(status="expired"))
    return counts[0], counts[1]


def export_files_prune(*, now: dt.datetime | None = None) -> int:
    """Remove export files older than ``AUTHMON_EXPORT_TTL_HOURS``."""
    now = now or timezone.now()
    limit = (now - dt.timedelta(hours=settings.AUTHMON_EXPORT_TTL_HOURS)).timestamp()
    directory = Path(settings.AUTHMON_EXPORT_DIR)
    removed = 0
    if directory.exists():
        for path in directory.iterdir():
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
                removed += 1
    return removed
