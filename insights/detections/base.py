"""The detection framework: tunable thresholds (:class:`Param`), what a detection finds (:class:`Finding`), what it
looks at (:class:`Scope`) and the registry every detection joins through :func:`detection`.

Kept apart from the detections themselves so that the services, forms and tests that only need the types and the
registry do not depend on any one family of rules, and a new family is a new module that registers itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import QuerySet

from authmon.models import Tenant
from events.models import EventLog
from insights.detections.evidence import evidence_url
from insights.models import Detection, Severity

MAX_FINDINGS = 50  # per detection and period; the page says when there are more


@dataclass(frozen=True)
class Param:
    """A threshold a tenant can tune; ``boolean`` ones are 0 or 1 and shown as a checkbox."""

    name: str
    label: str
    default: int
    minimum: int = 1
    maximum: int = 100_000
    boolean: bool = False

    def clean(self, value: Any) -> int:
        """The value as a whole number within bounds; ``ValueError`` otherwise."""
        if isinstance(value, bool):
            value = int(value)
        number = int(value)
        low, high = (0, 1) if self.boolean else (self.minimum, self.maximum)
        if not low <= number <= high:
            raise ValueError(f"{self.label} must be between {low} and {high}.")
        return number


@dataclass
class Finding:
    """One thing a detection found, with what it is about (``key``) and a link to the rows that show it."""

    detection: str
    severity: str
    key: dict[str, str]
    title: str
    summary: str
    count: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    evidence_url: str
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """Stable across evaluations: the detection and what it is about, not the time window it was seen in."""
        raw = f"{self.detection}|{json.dumps(self.key, sort_keys=True)}"
        return hashlib.sha256(raw.encode()).hexdigest()

    @property
    def subject(self) -> str:
        return ", ".join(f"{name}={value}" for name, value in self.key.items())[:300]

    @property
    def detection_label(self) -> str:
        return Detection(self.detection).label


@dataclass(frozen=True)
class Scope:
    """What a detection looks at: one tenant's records in ``[start, end)``, with the tenant's thresholds."""

    tenant: Tenant
    start: dt.datetime | None
    end: dt.datetime
    params: Mapping[str, int]
    detection: DetectionSpec
    limit: int = MAX_FINDINGS

    def records(self, model: type[models.Model], time_field: str) -> QuerySet:
        qs = model.objects.for_tenant(self.tenant).filter(**{f"{time_field}__lt": self.end})
        if self.start is not None:
            qs = qs.filter(**{f"{time_field}__gte": self.start})
        return qs.order_by()

    def events(self, *types: str) -> QuerySet:
        qs = self.records(EventLog, "created_on")
        if len(types) == 1:
            return qs.filter(event_type=types[0])
        return qs.filter(event_type__in=types) if types else qs

    def minutes(self, name: str) -> dt.timedelta:
        return dt.timedelta(minutes=self.params[name])

    def finding(
        self,
        *,
        key: dict[str, str],
        title: str,
        summary: str,
        count: int,
        first: dt.datetime,
        last: dt.datetime,
        evidence: str,
        **facts: Any,
    ) -> Finding:
        return Finding(
            detection=self.detection.name,
            severity=self.detection.severity,
            key=key,
            title=title,
            summary=summary,
            count=count,
            first_seen=first,
            last_seen=last,
            evidence_url=evidence,
            facts=facts,
        )

    def evidence(self, kind: str, first: dt.datetime, last: dt.datetime, **filters: str | Iterable[str]) -> str:
        """The list page of ``kind`` filtered to ``filters`` between ``first`` and ``last`` (inclusive)."""
        return evidence_url(kind, first, last, tz=self.tenant.tz, **filters)


@dataclass(frozen=True)
class DetectionSpec:
    """A registered detection: its name (a :class:`~insights.models.Detection`), what it means, its thresholds."""

    name: str
    severity: str
    kind: str  # the record kind its evidence links to
    description: str
    params: tuple[Param, ...]
    run: Callable[[Scope], list[Finding]]
    # Detections whose finding about the same subject, at an overlapping time, already reports what this one would:
    # the same attack seen by two detections is reported once, by the more specific one.
    reported_by: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return Detection(self.name).label

    @property
    def defaults(self) -> dict[str, int]:
        return {param.name: param.default for param in self.params}

    def thresholds(self, overrides: Mapping[str, Any] | None = None) -> dict[str, int]:
        """Defaults with the tenant's overrides applied; an override that is no longer valid is ignored."""
        values = self.defaults
        for param in self.params:
            if overrides and param.name in overrides:
                try:
                    values[param.name] = param.clean(overrides[param.name])
                except (TypeError, ValueError):
                    continue
        return values


_REGISTRY: dict[str, DetectionSpec] = {}


def detection(
    name: Detection,
    *,
    severity: Severity,
    kind: str,
    description: str,
    params: tuple[Param, ...],
    reported_by: tuple[Detection, ...] = (),
) -> Callable[[Callable[[Scope], list[Finding]]], Callable[[Scope], list[Finding]]]:
    """Register a detection function under ``name``."""

    def register(run: Callable[[Scope], list[Finding]]) -> Callable[[Scope], list[Finding]]:
        _REGISTRY[name] = DetectionSpec(
            name=str(name),
            severity=str(severity),
            kind=kind,
            description=description,
            params=params,
            run=run,
            reported_by=tuple(str(other) for other in reported_by),
        )
        return run

    return register


def detections() -> list[DetectionSpec]:
    """Every registered detection, in the order of :class:`~insights.models.Detection`."""
    return [_REGISTRY[name] for name in Detection.values if name in _REGISTRY]


def get(name: str) -> DetectionSpec:
    return _REGISTRY[name]
