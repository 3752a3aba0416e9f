"""Audit logs: one immutable record per administrative change."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from audit.diff import compute_diff
from authmon.models import TenantOwned, TenantQuerySet


class ImmutableRecordError(Exception):
    """Raised on any attempt to change or delete an audit record through the ORM."""


class Verb(models.TextChoices):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    ENABLE = "enable"
    DISABLE = "disable"


class ResourceType(models.TextChoices):
    IDENTITY_PROVIDER = "IdentityProvider"
    APPLICATION = "Application"
    USER = "User"
    GROUP = "Group"
    ROLE = "Role"
    PERMISSION = "Permission"
    TEMPLATE = "Template"
    TENANT_SETTINGS = "TenantSettings"
    SECRET = "Secret"  # noqa: S105
    CERTIFICATE = "Certificate"


class AuditLogQuerySet(TenantQuerySet):
    def update(self, **kwargs: Any) -> int:
        raise ImmutableRecordError("Audit records cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableRecordError("Audit records cannot be deleted.")

    def purge_expired(self) -> int:
        """Delete the selected records for the retention job; the one sanctioned removal path."""
        return self._raw_delete(self.db)  # type: ignore[attr-defined]


class AuditLog(TenantOwned):
    """An administrative change: who did what to which resource, with before/after snapshots.

    ``diff`` is computed on write from ``old_entity`` and ``new_entity`` (DESIGN section 5) and never sent by
    clients. Once written, a record cannot be changed or deleted through the ORM.
    """

    action = models.CharField(max_length=100)
    target = models.CharField(max_length=300, blank=True)
    actor = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    client_actor = models.CharField(max_length=200, blank=True)
    timestamp = models.DateTimeField(default=timezone.now)
    old_entity = models.JSONField(null=True, blank=True)
    new_entity = models.JSONField(null=True, blank=True)
    diff = models.JSONField(default=dict, blank=True, editable=False)
    comments = models.TextField(blank=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta(TenantOwned.Meta):
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-timestamp", "-id"], name="audit_tenant_time"),
            models.Index(fields=["tenant", "actor", "-timestamp"], name="audit_tenant_actor"),
            models.Index(fields=["tenant", "target"], name="audit_tenant_target"),
            models.Index(fields=["tenant", "subject"], name="audit_tenant_subject"),
            models.Index(fields=["tenant", "client_actor", "-timestamp"], name="audit_tenant_client"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRecordError("Audit records cannot be changed.")
        self.compute_derived()
        super().save(*args, **kwargs)

    def compute_derived(self) -> None:
        self.diff = compute_diff(self.old_entity, self.new_entity)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableRecordError("Audit records cannot be deleted.")
