"""The nightly retention trim, walking the registry: each kind's records older than the tenant's retention go.

The trim is the same for every kind: on PostgreSQL, month partitions past every tenant's retention are dropped
whole first (``authmon.partitions``); then the tenant's remaining old rows are deleted in small batches, each in
its own short transaction, so no table is locked for long. What differs between kinds is the kind's
:class:`TrimPolicy` (``LogKind.trim``): rows no trim removes whatever their age (a job authmon is still running),
rows that must be archived before they go and may only go in order (the audit chain, ``audit.trim``), and how a
batch is deleted. The framework never asks which kind it is trimming.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from authmon import filestore, partitions, registry
from authmon.retention import retention_days, retention_horizon

if TYPE_CHECKING:
    from django.db.models import Q, QuerySet

    from authmon.models import Tenant
    from authmon.registry import LogKind

TRIM_BATCH = 5_000


class TrimPolicy:
    """How the trim removes one kind's old records. This default keeps nothing back and deletes in batches.

    A kind's subclass may keep rows (``keep`` for the batched deletes, ``keep_sql`` for whole-partition drops: the
    same rule as SQL over a partition aliased ``r``, a constant, never user input), narrow or prepare the rows
    that go (``select``, e.g. archive them first), delete them its own way (``delete``), and refuse or prepare
    a month partition's drop (``partition_release``).
    """

    keep_reason = ""  # what kept partitions hold, for the trim's summary: "pending or running jobs"
    archives_first = False  # whether the rows that go are archived to a sealed export first (the retention preview)

    def keep(self) -> Q | None:
        return None

    def keep_sql(self) -> str | None:
        return None

    def select(
        self,
        old: QuerySet[Any],
        *,
        kind: LogKind,
        tenant: Tenant,
        cutoff: dt.datetime,
        report: TrimReport,
        progress: Any,
    ) -> QuerySet[Any]:
        return old

    def delete(self, batch: QuerySet[Any]) -> int:
        return batch.delete()[0]

    def partition_release(self, partition: partitions.Partition, *, kind: LogKind, report: TrimReport) -> bool:
        """Whether ``partition`` may be dropped whole now (after anything that must happen first)."""
        return True


@dataclass(frozen=True)
class ArchiveWritten:
    """A sealed archive a trim wrote into a tenant's archive store before deleting, and how many records it holds."""

    kind: str
    tenant_id: int
    written: filestore.WrittenFile
    records: int


@dataclass
class TrimReport:
    """What a tenant's trim removed, and how.

    ``deleted`` counts the tenant's rows removed by batched DELETEs. On PostgreSQL, ``dropped`` names the month
    partitions removed whole because every tenant's retention had passed them (they held every tenant's rows of
    that month, about ``dropped_rows``); ``deferred`` names partitions that were due but whose table was busy;
    ``kept`` names partitions that were due but hold records the kind's policy keeps (jobs still running, audit
    records that are not a prefix of their tenant's chain). ``archives`` are the files written before deleting,
    this tenant's and, when a shared month partition went, other tenants'.
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
            text += f"; {kind} partition(s) {', '.join(names)} kept: they hold {registry.get(kind).trim.keep_reason}"
        own: dict[str, list[ArchiveWritten]] = {}
        for archive in self.archives:
            if archive.tenant_id == self.tenant_id:
                own.setdefault(archive.kind, []).append(archive)
        for kind, archives in own.items():
            records = sum(a.records for a in archives)
            text += f"; {records:,} {registry.get(kind).noun} archived first ({len(archives)} sealed archive(s))"
        return text + "."


def _delete_batches(queryset: QuerySet[Any], *, policy: TrimPolicy, time_field: str | None = None) -> int:
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
            removed = policy.delete(batch)
        if not removed:  # the policy keeps the rest (the audit chain's order): stop rather than loop
            return deleted
        deleted += removed


def tenant_trim(*, tenant: Tenant, now: dt.datetime | None = None, progress: Any = None) -> TrimReport:
    """Apply the tenant's retention to every kind (0 days = keep forever), each as its trim policy says."""
    now = now or timezone.now()
    report = TrimReport(tenant_id=tenant.pk)
    for kind in registry.kinds():
        days = retention_days(tenant, kind)
        if days <= 0:
            continue
        cutoff = now - dt.timedelta(days=days)
        time_field = None
        if partitions.is_partitioned(kind.model):  # first, so that what the policy archives skips dropped months
            _partitions_drop(kind, report, now=now)
            time_field = kind.time_field
        old = kind.model.objects.for_tenant(tenant).filter(**{f"{kind.time_field}__lt": cutoff})
        old = kind.trim.select(old, kind=kind, tenant=tenant, cutoff=cutoff, report=report, progress=progress)
        keep = kind.trim.keep()
        if keep is not None:
            old = old.exclude(keep)
        report.deleted[kind.name] = _delete_batches(old, policy=kind.trim, time_field=time_field)
    return report


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
        if not kind.trim.partition_release(partition, kind=kind, report=report):
            report.kept.setdefault(kind.name, []).append(partition.name)
            continue
        outcome = partitions.partition_drop(partition, column=kind.time_field, keep_where=kind.trim.keep_sql())
        if outcome == "dropped":
            report.dropped.setdefault(kind.name, []).append(partition.name)
            report.dropped_rows[kind.name] = report.dropped_rows.get(kind.name, 0) + max(partition.rows_estimate, 0)
        elif outcome == "kept":
            report.kept.setdefault(kind.name, []).append(partition.name)
        else:
            report.deferred.setdefault(kind.name, []).append(partition.name)
