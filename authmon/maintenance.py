"""Retention and housekeeping, walking the registry rather than one task per kind.

- trim: delete each kind's records older than the tenant's retention, in small batches so no table is locked
  for long; the audit log is archived (a sealed export file) before any of it is deleted. On PostgreSQL, month
  partitions past every tenant's retention are dropped whole first (see ``authmon.partitions``).
- cleanup: sessions and grants past ``expires_at`` become expired; export files past their time are removed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from audit.chain import chain_anchor_move, chain_trim_bound
from audit.models import AuditChain
from authmon import filestore, partitions, registry
from authmon.exports import stream_json
from authmon.models import Tenant
from authmon.registry import LogKind
from jobs.models import JobRun, RunFile

TRIM_BATCH = 5_000

# Records no trim removes, whatever their age, by kind: a run of authmon that has not finished is still being worked
# on. Only authmon's own runs (with a server-side JobRun) count: an ingested record saying "running" is data, and
# must not keep itself, or its whole month partition, past retention for ever. The SQL form guards partition drops
# (see ``partitions.partition_drop``); it is a constant, never user input.
KEEP = {"jobs": Q(latest_status__in=["pending", "running"], pk__in=JobRun.objects.values("job_pk"))}
KEEP_SQL = {
    "jobs": "latest_status IN ('pending', 'running') AND EXISTS (SELECT 1 FROM jobs_jobrun k WHERE k.job_pk = r.id)",
    # an audit month goes only once every record in it is at or below its tenant's trim anchor (moved just before)
    "audit": "seq > COALESCE((SELECT h.anchor_seq FROM audit_auditchain h WHERE h.tenant_id = r.tenant_id), 0)",
}
KEEP_REASONS = {
    "jobs": "pending or running jobs",
    "audit": "audit records that follow younger ones in their tenant's chain (left to the batched purge)",
}


@dataclass
class TrimReport:
    """What a tenant's trim removed, and how.

    ``deleted`` counts the tenant's rows removed by batched DELETEs. On PostgreSQL, ``dropped`` names the month
    partitions removed whole because every tenant's retention had passed them (they held every tenant's rows of
    that month, about ``dropped_rows``); ``deferred`` names partitions that were due but whose table was busy;
    ``kept`` names partitions that were due but hold records no trim removes (jobs still pending or running) or
    cannot remove whole (audit records that are not a prefix of their tenant's chain).
    """

    deleted: dict[str, int] = field(default_factory=dict)
    tenant_id: int | None = None
    archives: list[ArchiveWritten] = field(default_factory=list)
    dropped: dict[str, list[str]] = field(default_factory=dict)
    dropped_rows: dict[str, int] = field(default_factory=dict)
    deferred: dict[str, list[str]] = field(default_factory=dict)
    kept: dict[str, list[str]] = field(default_factory=dict)

    def summary(self) -> str:
        parts = [f"{n:,} {kind}" for kind, n in self.deleted.items() if n]
        text = "Deleted " + ", ".join(parts) if parts else "Nothing past retention"
        if parts and self.dropped:
            text += " by batched deletes"
        for kind, names in self.dropped.items():
            text += (
                f"; dropped {len(names)} {kind} month partition(s) past every tenant's retention "
                f"({', '.join(names)}: about {self.dropped_rows.get(kind, 0):,} rows of all tenants)"
            )
        for kind, names in self.deferred.items():
            text += f"; {kind} partition(s) {', '.join(names)} busy, dropped on a later run"
        for kind, names in self.kept.items():
            text += f"; {kind} partition(s) {', '.join(names)} kept: they hold {KEEP_REASONS[kind]}"
        own = [a for a in self.archives if a.tenant_id == self.tenant_id]
        if own:
            records = sum(a.records for a in own)
            text += f"; {records:,} audit records archived first ({len(own)} sealed archive(s))"
        return text + "."


@dataclass(frozen=True)
class ArchiveWritten:
    """A sealed audit archive a trim wrote into a tenant's archive store, and how many records it holds."""

    tenant_id: int
    written: filestore.WrittenFile
    records: int


def audit_archive(
    *, tenant: Tenant, before: dt.datetime, progress: Any = None, up_to_seq: int | None = None
) -> ArchiveWritten | None:
    """Write a sealed export of the tenant's audit records older than ``before``; None when there are none.

    ``up_to_seq`` limits it to what a trim will remove: a prefix of the audit chain (see ``chain_trim_bound``). The
    file goes to the tenant's private archive store under an unguessable name (:mod:`authmon.filestore`).
    """
    kind = registry.get("audit")
    queryset = kind.model.objects.for_tenant(tenant).filter(timestamp__lt=before)
    if up_to_seq is not None:
        queryset = queryset.filter(seq__lte=up_to_seq)
    queryset = queryset.order_by("timestamp", "pk")
    if not queryset.exists():
        return None
    total = {"n": 0}

    def tick(done: int, count: int) -> None:
        total["n"] = done
        if progress:
            progress(done, count)

    filters = {"before": before.isoformat(), "reason": "retention archive"}
    with filestore.file_write("archive", tenant.pk, "json") as (out, place):
        for piece in stream_json(kind, queryset, tenant_slug=tenant.slug, filters=filters, limit=10**12, progress=tick):
            out.write(piece)
    return ArchiveWritten(tenant.pk, filestore.file_seal(place), total["n"])


def _delete_batches(queryset: Any, *, purge: bool, time_field: str | None = None) -> int:
    """Delete ``queryset`` in batches of ``TRIM_BATCH``, each in its own short transaction.

    With ``time_field`` (a partitioned table) each batch's DELETE also names the batch's time range, so that
    PostgreSQL looks for its ids in the one or two partitions that hold them rather than in every month's.
    """
    deleted = 0
    while True:
        if time_field:
            rows = list(queryset.values_list("pk", time_field)[:TRIM_BATCH])
            ids = [pk for pk, _when in rows]
        else:
            ids = list(queryset.values_list("pk", flat=True)[:TRIM_BATCH])
        if not ids:
            return deleted
        with transaction.atomic():
            batch = queryset.model.objects.filter(pk__in=ids)
            if time_field:
                times = [when for _pk, when in rows]
                batch = batch.filter(**{f"{time_field}__range": (min(times), max(times))})
            removed = batch.purge_expired() if purge else batch.delete()[0]
        if not removed:  # the audit chain keeps the rest (see chain_purge): stop rather than loop
            return deleted
        deleted += removed


def tenant_trim(*, tenant: Tenant, now: dt.datetime | None = None, progress: Any = None) -> TrimReport:
    """Apply the tenant's retention to every kind (0 days = keep forever). Audit is archived first."""
    now = now or timezone.now()
    report = TrimReport(tenant_id=tenant.pk)
    for kind in registry.kinds():
        days = tenant.retention_days(kind.name)
        if days <= 0:
            continue
        cutoff = now - dt.timedelta(days=days)
        time_field = None
        if partitions.is_partitioned(kind.model):  # first, so that the audit archive below skips dropped months
            _partitions_drop(kind, report, now=now)
            time_field = kind.time_field
        old = kind.model.objects.for_tenant(tenant).filter(**{f"{kind.time_field}__lt": cutoff})
        if kind.name == "audit":
            # Only a prefix of the tenant's audit chain can go, in chain order, so that the rest still verifies.
            bound = chain_trim_bound(tenant=tenant, cutoff=cutoff)
            old = old.filter(seq__lte=bound).order_by("seq")
            archive = audit_archive(tenant=tenant, before=cutoff, progress=progress, up_to_seq=bound)
            if archive is not None:
                report.archives.append(archive)
        if kind.name in KEEP:
            old = old.exclude(KEEP[kind.name])
        report.deleted[kind.name] = _delete_batches(old, purge=kind.name == "audit", time_field=time_field)
    return report


def retention_horizon(kind: LogKind, *, now: dt.datetime) -> dt.datetime | None:
    """The time before which no tenant keeps records of ``kind``; None while any tenant keeps them forever (0)."""
    name = f"retention_{kind.name}_days"
    if Tenant.objects.filter(**{name: 0}).exists():
        return None
    longest = Tenant.objects.aggregate(longest=Max(name))["longest"]
    return None if longest is None else now - dt.timedelta(days=longest)


def _partitions_drop(kind: LogKind, report: TrimReport, *, now: dt.datetime) -> None:
    """Drop the month partitions of ``kind`` that lie wholly before every tenant's retention cutoff.

    A partition holds every tenant's rows of its month, so the longest retention decides; each tenant's younger
    rows past its own (shorter) retention are left to the batched deletes. The first tenant's trim of the night
    drops what is due; the others find nothing left to drop.
    """
    horizon = retention_horizon(kind, now=now)
    if horizon is None:
        return
    for partition in partitions.partitions_past(kind.model._meta.db_table, before=horizon):
        if kind.name == "audit" and not _audit_month_release(partition, report):
            report.kept.setdefault(kind.name, []).append(partition.name)
            continue
        outcome = partitions.partition_drop(partition, column=kind.time_field, keep_where=KEEP_SQL.get(kind.name))
        if outcome == "dropped":
            report.dropped.setdefault(kind.name, []).append(partition.name)
            report.dropped_rows[kind.name] = report.dropped_rows.get(kind.name, 0) + max(partition.rows_estimate, 0)
        elif outcome == "kept":
            report.kept.setdefault(kind.name, []).append(partition.name)
        else:
            report.deferred.setdefault(kind.name, []).append(partition.name)


def _audit_month_release(partition: partitions.Partition, report: TrimReport) -> bool:
    """Archive an audit month partition and move its tenants' anchors past it; False if it cannot go whole.

    A month can be dropped only when, for every tenant with records in it, the records up to the highest position
    in the month are all older than the month's end (``chain_trim_bound``), i.e. in this month, earlier ones or
    already trimmed: a record of the month that follows a younger one (a late record with an old timestamp) would
    leave a hole. Such a month is left to the batched purge. Otherwise each tenant's records up to that position are
    archived, then its anchor moves there (signed, under the head lock); the partition drop follows, and records
    still present at or below the anchor meanwhile verify as restored ones.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tenant_id, MAX(seq) FROM {connection.ops.quote_name(partition.name)} GROUP BY tenant_id "  # noqa: S608
            "ORDER BY tenant_id"
        )
        highest = dict(cursor.fetchall())
    tenants = Tenant.objects.in_bulk(list(highest))
    anchors = dict(AuditChain.objects.filter(tenant_id__in=list(highest)).values_list("tenant_id", "anchor_seq"))
    due = {tenant_id: seq for tenant_id, seq in highest.items() if seq > anchors.get(tenant_id, 0)}
    for tenant_id, seq in due.items():
        if seq > chain_trim_bound(tenant=tenants[tenant_id], cutoff=partition.end):
            return False
    for tenant_id, seq in due.items():
        archive = audit_archive(tenant=tenants[tenant_id], before=partition.end, up_to_seq=seq)
        if archive is not None:
            report.archives.append(archive)
        chain_anchor_move(tenant_id=tenant_id, seq=seq)
    return True


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
