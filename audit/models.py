"""Audit logs: one immutable record per administrative change."""

from __future__ import annotations

from typing import Any

from django.db import models, router, transaction
from django.utils import timezone

from audit import chain
from audit.diff import compute_diff
from authmon.models import Tenant, TenantOwned, TenantQuerySet
from authmon.security.masking import mask


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

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise ImmutableRecordError("Audit records cannot be changed.")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[AuditLog]:
        """Insert records at the next positions of their tenants' audit chains.

        Records marked ``restored_from_archive`` (the restore sets it) keep the positions they were exported with,
        after :func:`audit.chain.chain_restore` has checked that they fit. Conflict handling is refused: a skipped
        row would leave a hole in the chain.
        """
        if kwargs.get("ignore_conflicts") or kwargs.get("update_conflicts"):
            raise chain.ChainError("Audit records cannot be inserted with conflict handling: it would break the chain.")
        objs = list(objs)
        restored = [o for o in objs if getattr(o, "restored_from_archive", False)]
        fresh = [o for o in objs if not getattr(o, "restored_from_archive", False)]
        with transaction.atomic(using=self.db, savepoint=False):
            for obj in fresh:
                obj.compute_derived()
            chain.chain_append(fresh)
            chain.chain_restore(restored)
            return super().bulk_create(objs, *args, **kwargs)

    def purge_expired(self) -> int:
        """Delete the selected records for the retention job; the one sanctioned removal path.

        Moves each tenant's chain anchor past what is deleted (see :func:`audit.chain.chain_purge`: only a prefix
        of a chain can go). On PostgreSQL the rows go through ``authmon_audit_purge``, the one function allowed to
        delete audit records (authmon migration 0003), which removes only what the anchor has passed.
        """
        with transaction.atomic(using=self.db):
            return chain.chain_purge(self)


class AuditLog(TenantOwned):
    """An administrative change: who did what to which resource, with before/after snapshots.

    ``diff`` is computed on write from ``old_entity`` and ``new_entity`` (DESIGN section 5) and never sent by
    clients. Once written, a record cannot be changed or deleted through the ORM (nor, on PostgreSQL, through SQL:
    triggers refuse it), and every record is a link of its tenant's hash chain (``seq``, ``prev_hash``, ``hash``;
    see :mod:`audit.chain`), so a change made behind authmon's back is found by ``verify_audit_chain``.
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
    # The tamper-evident chain (audit.chain): position in the tenant's chain, the previous record's hash, this hash.
    seq = models.BigIntegerField("chain position", editable=False)
    prev_hash = models.CharField("previous hash", max_length=64, editable=False)
    hash = models.CharField("record hash", max_length=64, editable=False)

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
        constraints = [
            *TenantOwned.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "seq"], name="audit_chain_position_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRecordError("Audit records cannot be changed.")
        self.compute_derived()
        with transaction.atomic(using=kwargs.get("using") or router.db_for_write(type(self), instance=self)):
            chain.chain_append([self])
            super().save(*args, **kwargs)

    def compute_derived(self) -> None:
        """Mask secrets in the snapshots (authmon.security.masking), then diff them.

        A record restored from an archive is kept exactly as archived: its chain hash vouches for every field.
        """
        if getattr(self, "restored_from_archive", False):
            return
        self.old_entity, self.new_entity = mask(self.old_entity), mask(self.new_entity)
        self.diff = compute_diff(self.old_entity, self.new_entity)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableRecordError("Audit records cannot be deleted.")

    @classmethod
    def archive_check(cls, records: list[dict[str, Any]], *, tenant: Tenant) -> None:
        """Restore hook: the archive's records must fit the chain positions they were exported from."""
        chain.archive_check(records, tenant=tenant, model=cls)


class AuditChain(models.Model):
    """The head of one tenant's audit chain: the last position and hash, and the trim anchor.

    Writers lock this row to take the next position, so concurrent writers cannot fork the chain. The anchor is the
    last position the retention trim removed and that record's hash: the first remaining record links to it. The
    state is signed (HMAC-SHA256 with the export seal key ``key_id``) so that it cannot be rolled back unnoticed.
    """

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, primary_key=True, related_name="+")
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=chain.GENESIS)
    anchor_seq = models.BigIntegerField(default=0)
    anchor_hash = models.CharField(max_length=64, default=chain.GENESIS)
    key_id = models.CharField(max_length=100, blank=True)
    signature = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"audit chain of tenant {self.tenant_id}: seq {self.anchor_seq + 1}..{self.last_seq}"


class CheckpointMark(models.Model):
    """The database's note of the last checkpoint written to a tenant's checkpoint file (:mod:`audit.checkpoints`).

    Lines removed from the end of a checkpoint file leave a file whose own chain still holds; this mark (the last
    counter and that line's SHA-256) shows them missing. It is a second witness only: the checkpoint file is what
    remembers a tenant's chain, so deleting the mark along with the chain hides nothing.
    """

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, primary_key=True, related_name="+")
    counter = models.BigIntegerField()
    digest = models.CharField(max_length=64)
    written_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"checkpoint #{self.counter} of tenant {self.tenant_id}"
