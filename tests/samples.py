"""A valid record of any registered kind, built from the model's fields, carrying a unique marker string.

The generic view tests use it for every kind, so a new kind is covered without writing anything here.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.db import models
from django.utils import timezone

from authmon.registry import LogKind

_counter = itertools.count(1)


def sample_record(kind: LogKind, tenant: Any, marker: str, *, when: dt.datetime | None = None, **overrides: Any):
    """Create one record of ``kind`` in ``tenant`` whose text fields contain ``marker``."""
    n = next(_counter)
    values: dict[str, Any] = {"tenant": tenant}
    for field in kind.data_fields:
        if field.name in overrides or not field.editable or field.name == "external_id":
            continue
        if field.choices:
            values[field.name] = field.choices[0][0]
        elif isinstance(field, models.DateTimeField) and field.name.startswith("expires"):
            # Still valid: a sample session or grant is active, which their lists show by default.
            values[field.name] = timezone.now() + dt.timedelta(days=1)
        elif isinstance(field, models.DateTimeField):
            values[field.name] = when or timezone.now() - dt.timedelta(hours=1)
        elif isinstance(field, models.GenericIPAddressField):
            values[field.name] = f"203.0.113.{n % 250 + 1}"
        elif isinstance(field, models.JSONField):
            values[field.name] = {"marker": marker}
        elif isinstance(field, (models.CharField, models.TextField)):
            values[field.name] = f"{marker}-{field.name}-{n}"[: getattr(field, "max_length", None) or 200]
    if kind.name == "audit":
        values["old_entity"] = {"name": f"{marker}-old"}
        values["new_entity"] = {"name": f"{marker}-new"}
    values.update(overrides)
    return kind.model.objects.create(**values)


def retain(tenant: Any, **days: int) -> None:
    """Set ``tenant``'s retention of the named kinds (``retain(t, audit=365)``), as a super admin's change would."""
    from authmon.models import Retention

    for kind, value in days.items():
        Retention.objects.update_or_create(tenant=tenant, kind=kind, defaults={"days": value})
