"""Security detections: small rules over one tenant's records for a period, each with thresholds the tenant can tune.

Every detection is a function registered with :func:`detection`; it receives a :class:`Scope` (tenant, period and
the tenant's thresholds) and returns :class:`Finding` objects, each with a link to its evidence: the list page of
the record kind, filtered with DESIGN 6b's URL parameters to the rows that triggered it. How they stay fast on
millions of rows is told in :mod:`insights.detections.windows`.

The package holds the framework (:mod:`~insights.detections.base`), the evidence links, the windows and the shared
wording, and one module per family of detections. This module exposes the framework's public names, so callers
import ``insights.detections`` and never a family; importing the families here is what registers them.
"""

from insights.detections import admin, operations, revocations, signin, takeover
from insights.detections.base import MAX_FINDINGS, DetectionSpec, Finding, Param, Scope, detection, detections, get
from insights.detections.evidence import evidence_url, records_url
from insights.detections.windows import Burst, find_bursts

__all__ = [
    "MAX_FINDINGS",
    "Burst",
    "DetectionSpec",
    "Finding",
    "Param",
    "Scope",
    "admin",
    "detection",
    "detections",
    "evidence_url",
    "find_bursts",
    "get",
    "operations",
    "records_url",
    "revocations",
    "signin",
    "takeover",
]
