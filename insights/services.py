"""Services of security insights: evaluating detections, tuning them, review notes.

Writes go through here (keyword-only, ``<thing>_<verb>``) and every change an admin makes is audited. Alert rules and
their delivery build on :func:`findings_evaluate` and live in :mod:`insights.alerts`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.services import audit_record
from authmon.models import Tenant
from insights import detections as catalog
from insights.detections import DetectionSpec, Finding, Scope
from insights.models import DetectionSettings, ReviewCadence, ReviewNote, Severity

SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}


# --------------------------------------------------------------------------------------------------------------
# Evaluating detections
# --------------------------------------------------------------------------------------------------------------


@dataclass
class DetectionResult:
    """One detection's outcome for a period: its thresholds, whether it ran, and what it found."""

    spec: DetectionSpec
    enabled: bool
    thresholds: dict[str, int]
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def truncated(self) -> bool:
        return len(self.findings) >= catalog.MAX_FINDINGS


def detection_thresholds(*, tenant: Tenant) -> dict[str, tuple[bool, dict[str, int]]]:
    """Per detection name: whether it is on for ``tenant`` and its effective thresholds."""
    stored = {row.detection: row for row in DetectionSettings.objects.for_tenant(tenant)}
    result = {}
    for spec in catalog.detections():
        row = stored.get(spec.name)
        result[spec.name] = (row.enabled if row else True, spec.thresholds(row.thresholds if row else None))
    return result


def findings_evaluate(
    *,
    tenant: Tenant,
    start: dt.datetime | None,
    end: dt.datetime | None = None,
    only: Iterable[str] | None = None,
    now: dt.datetime | None = None,
) -> list[DetectionResult]:
    """Run every detection (or those named in ``only``) that the tenant has on, over ``[start, end)``."""
    end = end or now or timezone.now()
    wanted = set(only) if only is not None else None
    configured = detection_thresholds(tenant=tenant)
    results = []
    for spec in catalog.detections():
        if wanted is not None and spec.name not in wanted:
            continue
        enabled, thresholds = configured[spec.name]
        result = DetectionResult(spec=spec, enabled=enabled, thresholds=thresholds)
        if enabled:
            began = time.perf_counter()
            result.findings = spec.run(Scope(tenant=tenant, start=start, end=end, params=thresholds, detection=spec))
            result.seconds = time.perf_counter() - began
        results.append(result)
    _findings_reported_once(results)
    results.sort(key=lambda r: (SEVERITY_ORDER[Severity(r.spec.severity)], not r.findings))
    return results


def _findings_reported_once(results: list[DetectionResult]) -> None:
    """Drop a finding that a more specific detection already reports (``DetectionSpec.reported_by``): same subject,
    overlapping time. The finding that stays says which other detection the same rows also match."""
    by_name = {r.spec.name: r for r in results}
    for result in results:
        for other_name in result.spec.reported_by:
            other = by_name.get(other_name)
            if other is None or not other.findings:
                continue
            kept = []
            for finding in result.findings:
                same = next(
                    (
                        f
                        for f in other.findings
                        if f.key == finding.key
                        and f.first_seen <= finding.last_seen
                        and finding.first_seen <= f.last_seen
                    ),
                    None,
                )
                if same is None:
                    kept.append(finding)
                else:
                    same.facts.setdefault("also_matches", []).append(result.spec.label)
            result.findings = kept


def detection_settings_update(
    *, tenant: Tenant, actor: str, detection: str, enabled: bool, thresholds: Mapping[str, Any]
) -> DetectionSettings:
    """Turn a detection on or off and set its thresholds; values equal to the default are not stored. Audited."""
    spec = catalog.get(detection)
    clean: dict[str, int] = {}
    for param in spec.params:
        if param.name in thresholds:
            try:
                value = param.clean(thresholds[param.name])
            except (TypeError, ValueError) as exc:
                raise ValidationError({param.name: str(exc)}) from exc
            if value != param.default:
                clean[param.name] = value
    row = DetectionSettings.objects.for_tenant(tenant).filter(detection=detection).first()
    old = {"enabled": row.enabled, "thresholds": row.thresholds} if row else {"enabled": True, "thresholds": {}}
    new = {"enabled": enabled, "thresholds": clean}
    if old == new:
        return row or DetectionSettings(tenant=tenant, detection=detection)
    if row is None:
        row = DetectionSettings(tenant=tenant, detection=detection)
    row.enabled, row.thresholds, row.updated_at, row.updated_by = enabled, clean, timezone.now(), actor
    row.save()
    audit_record(
        tenant=tenant,
        actor=actor,
        action="update DetectionSettings",
        target=spec.label,
        old=old,
        new=new,
        comments=f"Detection “{spec.label}” tuned",
    )
    return row


# --------------------------------------------------------------------------------------------------------------
# Reviews
# --------------------------------------------------------------------------------------------------------------


def review_note_create(*, tenant: Tenant, actor: str, cadence: str, note: str) -> ReviewNote:
    """Record that a daily, weekly or monthly review was done, with the reviewer's note. Audited."""
    note = note.strip()
    if cadence not in ReviewCadence.values:
        raise ValidationError({"cadence": "Choose daily, weekly or monthly."})
    if not note:
        raise ValidationError({"note": "Write what you reviewed and found."})
    if len(note) > 4000:
        raise ValidationError({"note": "Keep the note under 4,000 characters."})
    record = ReviewNote.objects.create(tenant=tenant, cadence=cadence, note=note, author=actor)
    audit_record(
        tenant=tenant,
        actor=actor,
        action="create ReviewNote",
        target=f"{ReviewCadence(cadence).label} security review",
        new={"cadence": cadence, "note": note},
        comments=f"{ReviewCadence(cadence).label} review done",
    )
    return record
