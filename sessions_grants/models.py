"""Authentication sessions and OAuth grants (upserted by their own id as their status changes), and the
per-tenant revocation webhook that tells the identity service about revocations made here."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property

from authmon.models import Tenant, TenantOwned


class Protocol(models.TextChoices):
    OIDC = "OIDC", "OIDC"
    SAML = "SAML", "SAML"


class AccessStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


BULK_REVOKE_MAX = 1000  # rows one bulk revocation may revoke (a page's checkboxes, or "older than N days")


def status_q(status: str, *, now: dt.datetime | None = None) -> Q:
    """Rows whose *effective* status is ``status``: an active row past ``expires_at`` counts as expired.

    The nightly cleanup job stores "expired" for such rows; until it runs, pages, filters and counts use this so that
    nothing past its expiry is ever shown or counted as active.
    """
    now = now or timezone.now()
    still_valid = Q(expires_at__isnull=True) | Q(expires_at__gte=now)
    if status == AccessStatus.ACTIVE:
        return Q(status=AccessStatus.ACTIVE) & still_valid
    if status == AccessStatus.EXPIRED:
        return Q(status=AccessStatus.EXPIRED) | (Q(status=AccessStatus.ACTIVE) & ~still_valid)
    return Q(status=status)


def access_state_fields() -> tuple[models.Field[Any, Any], ...]:
    """The five fields sessions and grants share, in their declared order: created_at, expires_at, status, details
    and revoked_at.

    A function, not fields on :class:`AccessRecord`: fields inherited from an abstract base come before the model's
    own, and the record's field order is a contract (DESIGN section 5: the export's keys, the API's schema and the
    CSV's columns all follow it). Unpacking these at the end of each model keeps them last.
    """
    return (
        models.DateTimeField(default=timezone.now),
        models.DateTimeField(null=True, blank=True),
        models.CharField(max_length=16, choices=AccessStatus.choices, default=AccessStatus.ACTIVE),
        models.JSONField(default=dict, blank=True),
        models.DateTimeField(null=True, blank=True, editable=False),
    )


class AccessRecord(TenantOwned):
    """What sessions and grants share beyond their fields: the effective status, the webhook delivery, the ordering
    and the indexes of the pages' default queries. ``record_key`` names the identity service's own id of the record,
    by which it is upserted."""

    record_key: ClassVar[str]
    # Declared by each subclass through access_state_fields(); named here for the type checker.
    status: str
    expires_at: dt.datetime | None

    class Meta(TenantOwned.Meta):
        abstract = True
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="%(class)s_tenant_time"),
            models.Index(fields=["tenant", "user_id", "-created_at"], name="%(class)s_tenant_user"),
            models.Index(fields=["tenant", "email", "-created_at"], name="%(class)s_tenant_email"),
            models.Index(fields=["tenant", "revoked_at"], name="%(class)s_tenant_revoked"),
        ]

    def __str__(self) -> str:
        return str(getattr(self, self.record_key))

    @property
    def effective_status(self) -> str:
        """The stored status, except that an active row past ``expires_at`` is expired (see :func:`status_q`)."""
        if self.status == AccessStatus.ACTIVE and self.expires_at is not None and self.expires_at < timezone.now():
            return AccessStatus.EXPIRED
        return self.status

    @property
    def expired_by_time(self) -> bool:
        """Stored as active but past its expiry: the cleanup job has not run since."""
        return self.status == AccessStatus.ACTIVE and self.effective_status == AccessStatus.EXPIRED

    def _get_FIELD_display(self, field: Any) -> Any:
        # get_status_display(), the generic details page and django-tables2 all show a choice through this hook, so
        # overriding it here makes every page show the effective status without each of them knowing about expiry.
        if field.name == "status":
            return AccessStatus(self.effective_status).label
        return super()._get_FIELD_display(field)  # type: ignore[misc]

    @cached_property
    def webhook_delivery(self) -> RevocationDelivery | None:
        """How pushing this revocation to the tenant's webhook went; None when it was never pushed."""
        return RevocationDelivery.objects.filter(record_type=self._meta.model_name, record_id=self.pk).first()


def _key_unique(key: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(fields=["tenant", key], name=f"%(class)s_tenant_{key}_uniq")


class Session(AccessRecord):
    """A signed-in user's session at the identity service."""

    record_key = "session_id"

    session_id = models.CharField(max_length=200)
    protocol = models.CharField(max_length=8, choices=Protocol.choices)
    client_id = models.CharField(max_length=200, blank=True)
    user_id = models.CharField(max_length=100, blank=True)
    email = models.CharField(max_length=254, blank=True)
    created_at, expires_at, status, details, revoked_at = access_state_fields()

    class Meta(AccessRecord.Meta):
        constraints = [*AccessRecord.Meta.constraints, _key_unique("session_id")]
        indexes = [
            *AccessRecord.Meta.indexes,
            models.Index(fields=["tenant", "client_id", "-created_at"], name="session_tenant_client"),
        ]


class Grant(AccessRecord):
    """A user's consent for an application to access their data (an OAuth 2.0 / OIDC grant)."""

    record_key = "grant_id"

    grant_id = models.CharField(max_length=200)
    email = models.CharField(max_length=254, blank=True)
    user_id = models.CharField(max_length=100, blank=True)
    provider = models.CharField(max_length=200, blank=True)
    client = models.CharField(max_length=200, blank=True)
    session_id = models.CharField(max_length=200, blank=True)
    created_at, expires_at, status, details, revoked_at = access_state_fields()

    class Meta(AccessRecord.Meta):
        constraints = [*AccessRecord.Meta.constraints, _key_unique("grant_id")]
        indexes = [
            *AccessRecord.Meta.indexes,
            models.Index(fields=["tenant", "client", "-created_at"], name="grant_tenant_client"),
        ]


class RevocationWebhook(models.Model):
    """A tenant's revocation webhook at the identity service: every revocation is POSTed there, signed.

    The secret is the HMAC-SHA256 key of the ``X-Authmon-Signature`` header; it is stored as given because signing
    needs it, and it is never shown in the console. Set with ``manage.py set_revocation_webhook``.
    """

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="revocation_webhook")
    url = models.URLField(max_length=1000, validators=[URLValidator(schemes=["http", "https"])])
    secret = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.tenant.slug}: {self.url}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class RevocationDelivery(models.Model):
    """Whether one revoked session or grant reached the tenant's webhook: pending, delivered or failed.

    Kept beside the record rather than as a column of it: it is authmon's own bookkeeping, not a field of the
    identity service's record (DESIGN section 5), so it stays out of the API, the exports and the query language.
    Revocations are pushed in batches (one contain-account action, one ingested batch): ``batch`` ties the rows
    of one push together and names it in every job run that tried to deliver it.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    record_type = models.CharField(max_length=16)  # the model name: "session" or "grant"
    record_id = models.BigIntegerField()
    batch = models.CharField(max_length=32, db_index=True)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    job_id = models.CharField(max_length=100, blank=True)  # the latest job run that carried it
    # The same run by its primary key, which only authmon assigns: job_id is free text that an ingested job record
    # can repeat, so pages link to the run by this key (jobs:joblog_detail), never look it up by job_id.
    job_pk = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # The tenant is part of the key so that the table can be distributed by tenant (docs/scaling.md); it comes
        # last because the deliveries are looked up by (record_type, record_id), which this index serves.
        constraints = [
            models.UniqueConstraint(
                fields=["record_type", "record_id", "tenant"], name="revocation_delivery_record_tenant_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.record_type} {self.record_id}: {self.status}"


class RevocationKeptReport(models.Model):
    """authmon's own record that an ingested batch reported revoked sessions or grants as not revoked (DESIGN 6).

    Ingest writes one per batch that kept a revocation, in the batch's transaction, beside the audit record of it
    (:func:`sessions_grants.services.revocations_kept_audit`). The audit record is the trail people read; this is
    what Insights reads ("revoked session or grant reported active"), because audit records are an ingestible kind
    and a forged one could otherwise hide a real report or name an innocent token. Nothing but that hook writes
    here, and no API schema, export or query language exposes it.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16)  # the record kind's API name: "sessions" or "grants"
    # The API token that sent the batch; its label as the audit record names it stays when the token is deleted.
    token = models.ForeignKey("authmon.ApiToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    token_label = models.CharField(max_length=300)
    kept_ids = models.JSONField(default=list)  # at most KEPT_IDS_MAX of them, as in the audit record
    kept_count = models.PositiveIntegerField()  # exact
    reported_status = models.JSONField(default=list)  # what the batch said instead: "active", "expired"
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tenant", "kind", "-created_at"], name="kept_report_tenant_time")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.kept_count} kept revoked, sent by {self.token_label}"
