"""The detection of revoked sessions or grants that an ingested batch reported as active again.

It reads authmon's own server-side reports of kept revocations rather than event rows, and links its evidence with a
question naming the records (:func:`~insights.detections.evidence.records_url`), so it lives apart from the
detections that count events in windows.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Max, Sum

from authmon import registry
from insights.detections.base import Finding, Param, Scope, detection
from insights.detections.evidence import records_url
from insights.detections.text import more_text, time_text, top_text
from insights.models import Detection, Severity
from sessions_grants.models import AccessStatus, Grant, RevocationKeptReport, Session

KEPT_SOURCES_READ = 200  # reporting tokens looked at per kind and period, those with the most kept ids first
KEPT_REPORTS_READ = 500  # reports read per token, kind and period, newest first
KEPT_IDS_PER_SOURCE = 1000  # distinct ids looked at per reporting source
KEPT_IDS_SHOWN = 10  # in the summary
KEPT_IDS_IN_FACTS = 100  # in the finding's facts


@dataclass(frozen=True)
class _KeptReport:
    when: dt.datetime
    ids: list[str]
    statuses: list[str]


def _kept_reports(scope: Scope, model: type[Session] | type[Grant]) -> dict[str, list[_KeptReport]]:
    """authmon's own reports of kept revocations of ``model`` in the period, oldest first, by the token that sent
    them (named as its audit record names it).

    Read from :class:`~sessions_grants.models.RevocationKeptReport`, which only ingest writes, and never from the
    audit records beside them: those can be ingested, so a forged one could hide a real report or blame another
    token. Each source gets its own window of reports, so that one token's many reports cannot crowd out another's.
    """
    kind = registry.for_model(model).name
    reports = RevocationKeptReport.objects.filter(tenant=scope.tenant, kind=kind, created_at__lt=scope.end)
    if scope.start is not None:
        reports = reports.filter(created_at__gte=scope.start)
    sources = (
        reports.values("token_id", "token_label")
        .annotate(kept=Sum("kept_count"), latest=Max("created_at"))
        .order_by("-kept", "-latest", "token_label")[:KEPT_SOURCES_READ]
    )
    by_source: dict[str, list[_KeptReport]] = {}
    for source in sources:
        rows = (
            reports.filter(token_id=source["token_id"], token_label=source["token_label"])
            .order_by("-created_at", "-pk")
            .values_list("created_at", "kept_ids", "reported_status")[:KEPT_REPORTS_READ]
        )
        found = [_KeptReport(when, _strings(ids), _strings(statuses)) for when, ids, statuses in reversed(rows)]
        by_source.setdefault(source["token_label"], []).extend(found)
    for found in by_source.values():
        found.sort(key=lambda report: report.when)
    return by_source


def _strings(value: Any) -> list[str]:
    """The text items of a JSON list."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _revoked_among(scope: Scope, model: type[Session] | type[Grant], key: str, ids: set[str]) -> dict[str, str]:
    """Which of ``ids`` are revoked rows of the tenant, each with its user (e-mail, else user id)."""
    found: dict[str, str] = {}
    wanted = sorted(ids)
    for start in range(0, len(wanted), 500):
        rows = (
            model.objects.for_tenant(scope.tenant)
            .filter(status=AccessStatus.REVOKED, **{f"{key}__in": wanted[start : start + 500]})
            .values_list(key, "email", "user_id")
        )
        found.update((value, email or user_id) for value, email, user_id in rows)
    return found


@detection(
    Detection.REVOKED_REPORTED_ACTIVE,
    severity=Severity.MEDIUM,
    kind="sessions",
    description="An ingested batch reported revoked sessions or grants as active or expired. authmon kept them "
    "revoked, as revocation is final; the identity service may not have applied the revocation, or someone is "
    "replaying old data with its API token.",
    params=(Param("records", "Revoked sessions or grants reported by one token, at least", 1, 1),),
)
def revoked_reported_active(scope: Scope) -> list[Finding]:
    """One finding per record kind and reporting token, read from the report that ingest keeps server-side for each
    batch it kept revoked (``sessions_grants.services.revocations_kept_audit`` writes it with the audit record).

    Only the ids that are still revoked rows of this tenant count (a row may have been trimmed since).
    """
    p, tz = scope.params, scope.tenant.tz
    found: list[Finding] = []
    for model in (Session, Grant):
        kind = registry.for_model(model)
        key = kind.upsert_key or ""
        reports = _kept_reports(scope, model)
        named: dict[str, list[str]] = {}
        for actor, kept_reports in reports.items():
            ids = dict.fromkeys(i for report in kept_reports for i in report.ids)
            named[actor] = list(ids)[:KEPT_IDS_PER_SOURCE]
        revoked = _revoked_among(scope, model, key, {i for ids in named.values() for i in ids})
        for actor, kept_reports in reports.items():
            ids = [i for i in named[actor] if i in revoked]
            if not ids or len(ids) < p["records"]:
                continue
            kept = set(ids)
            mine = [report for report in kept_reports if kept.intersection(report.ids)]
            first, last = mine[0].when, mine[-1].when
            statuses = sorted({s[:20] for report in mine for s in report.statuses})
            reported = " or ".join(statuses) or "active"
            users = Counter(revoked[i] for i in ids if revoked[i])
            noun, them = (kind.singular.lower(), "it") if len(ids) == 1 else (kind.noun, "them")
            url, linked = records_url(kind.name, key, ids)
            batches = len(mine)
            found.append(
                scope.finding(
                    key={"kind": kind.name, "actor": actor},
                    title=f"{len(ids)} revoked {noun} reported {reported} by {actor}"[:300],
                    summary=f"{batches} ingested batch{'es' if batches != 1 else ''} between "
                    f"{time_text(first, tz)} and {time_text(last, tz)} reported {more_text(ids, KEPT_IDS_SHOWN)} as "
                    f"{reported}, for {top_text(users, 'user')}. authmon kept {them} revoked: check that the identity "
                    f"service has ended {them}, and whether this token is replaying old data."
                    + (f" The link shows the first {linked}." if linked < len(ids) else ""),
                    count=len(ids),
                    first=first,
                    last=last,
                    evidence=url,
                    ids=ids[:KEPT_IDS_IN_FACTS],
                    statuses=statuses,
                    batches=batches,
                )
            )
    found.sort(key=lambda f: (-f.count, f.subject))
    return found[: scope.limit]
