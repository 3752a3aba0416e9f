"""Housekeeping: sessions and grants past ``expires_at`` become expired; export files past their time are removed.

The retention trim is ``authmon.trim``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from authmon import filestore, registry
from authmon.models import Tenant
from jobs.models import RunFile


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
    """Remove export files and leftover restore uploads older than ``AUTHMON_EXPORT_TTL_HOURS``.

    Recorded files go with their records (the job page then says the file has expired); files without a record
    (left by a crashed run, or by an older release that wrote exports flat into the directory) go by their age.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(hours=settings.AUTHMON_EXPORT_TTL_HOURS)
    removed = 0
    for stored in RunFile.objects.filter(purpose__in=["export", "upload"], created_at__lt=cutoff).iterator():
        filestore.file_remove(filestore.StoredPath(stored.purpose, stored.tenant_id, stored.name))
        stored.delete()
        removed += 1
    directory = Path(settings.AUTHMON_EXPORT_DIR)
    if directory.exists():
        for path in directory.rglob("*"):
            if path.is_file() and not path.is_symlink() and path.stat().st_mtime < cutoff.timestamp():
                path.unlink(missing_ok=True)
                removed += 1
    return removed
