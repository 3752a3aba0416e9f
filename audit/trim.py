"""How the nightly trim removes audit records (``LogKind.trim`` of the audit kind; ``authmon.trim`` runs it).

Only a prefix of a tenant's hash chain can go, in chain order, so that what remains still verifies
(``audit.chain``): the trim takes the records up to ``chain_trim_bound``, archives them first (a sealed export in
the tenant's archive store) and deletes them through ``purge_expired``, the one sanctioned removal path. A month
partition is dropped whole only when it is such a prefix of every chain in it, each tenant's part archived and its
anchor moved past it first.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import connection

from audit.chain import chain_anchor_move, chain_trim_bound
from audit.models import AuditChain
from authmon import filestore
from authmon.exports import stream_json
from authmon.models import Tenant
from authmon.trim import ArchiveWritten, TrimPolicy, TrimReport

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from authmon import partitions
    from authmon.registry import LogKind


class AuditTrimPolicy(TrimPolicy):
    """Archive, then purge a prefix of each tenant's chain; drop a month only when it is a prefix of every chain."""

    keep_reason = "audit records that follow younger ones in their tenant's chain (left to the batched purge)"
    archives_first = True

    def keep_sql(self) -> str:
        # a month goes only once every record in it is at or below its tenant's trim anchor (moved just before)
        return "seq > COALESCE((SELECT h.anchor_seq FROM audit_auditchain h WHERE h.tenant_id = r.tenant_id), 0)"

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
        bound = chain_trim_bound(tenant=tenant, cutoff=cutoff)
        archive = audit_archive(kind=kind, tenant=tenant, before=cutoff, progress=progress, up_to_seq=bound)
        if archive is not None:
            report.archives.append(archive)
        return old.filter(seq__lte=bound).order_by("seq")

    def delete(self, batch: QuerySet[Any]) -> int:
        return batch.purge_expired()

    def partition_release(self, partition: partitions.Partition, *, kind: LogKind, report: TrimReport) -> bool:
        """Archive an audit month partition and move its tenants' anchors past it; False if it cannot go whole.

        A month can be dropped only when, for every tenant with records in it, the records up to the highest
        position in the month are all older than the month's end (``chain_trim_bound``), i.e. in this month,
        earlier ones or already trimmed: a record of the month that follows a younger one (a late record with an old
        timestamp) would leave a hole. Such a month is left to the batched purge. Otherwise each tenant's records up
        to that position are archived, then its anchor moves there (signed, under the head lock); the partition drop
        follows, and records still present at or below the anchor meanwhile verify as restored ones.
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
            archive = audit_archive(kind=kind, tenant=tenants[tenant_id], before=partition.end, up_to_seq=seq)
            if archive is not None:
                report.archives.append(archive)
            chain_anchor_move(tenant_id=tenant_id, seq=seq)
        return True


def audit_archive(
    *, kind: LogKind, tenant: Tenant, before: dt.datetime, progress: Any = None, up_to_seq: int | None = None
) -> ArchiveWritten | None:
    """Write a sealed export of the tenant's audit records older than ``before``; None when there are none.

    ``up_to_seq`` limits it to what a trim will remove: a prefix of the audit chain (see ``chain_trim_bound``). The
    file goes to the tenant's private archive store under an unguessable name (:mod:`authmon.filestore`).
    """
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
    return ArchiveWritten(kind.name, tenant.pk, filestore.file_seal(place), total["n"])
