"""Authentication sessions and OAuth grants. Both are upserted by their own id as their status changes."""

from django.db import models
from django.utils import timezone

from authmon.models import TenantOwned


class Protocol(models.TextChoices):
    OIDC = "OIDC", "OIDC"
    SAML = "SAML", "SAML"


class AccessStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class Session(TenantOwned):
    """A signed-in user's session at the identity service."""

    session_id = models.CharField(max_length=200)
    protocol = models.CharField(max_length=8, choices=Protocol.choices)
    client_id = models.CharField(max_length=200, blank=True)
    user_id = models.CharField(max_length=100, blank=True)
    email = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=AccessStatus.choices, default=AccessStatus.ACTIVE)
    details = models.JSONField(default=dict, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(TenantOwned.Meta):
        ordering = ["-created_at", "-id"]
        constraints = [
            *TenantOwned.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "session_id"], name="session_tenant_session_id_uniq"),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="session_tenant_time"),
            models.Index(fields=["tenant", "user_id", "-created_at"], name="session_tenant_user"),
            models.Index(fields=["tenant", "email", "-created_at"], name="session_tenant_email"),
            models.Index(fields=["tenant", "revoked_at"], name="session_tenant_revoked"),
            models.Index(fields=["tenant", "client_id", "-created_at"], name="session_tenant_client"),
        ]

    def __str__(self) -> str:
        return self.session_id


class Grant(TenantOwned):
    """A user's consent for an application to access their data (an OAuth 2.0 / OIDC grant)."""

    grant_id = models.CharField(max_length=200)
    email = models.CharField(max_length=254, blank=True)
    user_id = models.CharField(max_length=100, blank=True)
    provider = models.CharField(max_length=200, blank=True)
    client = models.CharField(max_length=200, blank=True)
    session_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=AccessStatus.choices, default=AccessStatus.ACTIVE)
    details = models.JSONField(default=dict, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(TenantOwned.Meta):
        ordering = ["-created_at", "-id"]
        constraints = [
            *TenantOwned.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "grant_id"], name="grant_tenant_grant_id_uniq"),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="grant_tenant_time"),
            models.Index(fields=["tenant", "email", "-created_at"], name="grant_tenant_email"),
            models.Index(fields=["tenant", "user_id", "-created_at"], name="grant_tenant_user"),
            models.Index(fields=["tenant", "revoked_at"], name="grant_tenant_revoked"),
            models.Index(fields=["tenant", "client", "-created_at"], name="grant_tenant_client"),
        ]

    def __str__(self) -> str:
        return self.grant_id
