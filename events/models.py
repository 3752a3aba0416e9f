"""Authentication event logs."""

from django.db import models
from django.utils import timezone

from authmon.models import TenantOwned


class EventType(models.TextChoices):
    LOGIN = "login", "Login"
    LOGIN_FAILED = "login_failed", "Login failed"
    LOGOUT = "logout", "Logout"
    MFA_VERIFIED = "mfa_verified", "MFA verified"
    MFA_FAILED = "mfa_failed", "MFA failed"
    PASSWORD_RESET = "password_reset", "Password reset"
    ACCOUNT_LOCKED = "account_locked", "Account locked"
    SESSION_CREATED = "session_created", "Session created"
    TOKEN_REFRESHED = "token_refreshed", "Token refreshed"


class EventLog(TenantOwned):
    """One authentication event (login, failure, MFA, reset, lockout...) as the identity service saw it.

    On PostgreSQL the table is partitioned by month on ``created_on`` (``authmon/partitions.py``, docs/scaling.md):
    a new unique constraint must include ``created_on``, and the ``(tenant, external_id)`` one lives in a key table.
    """

    event_type = models.CharField(max_length=32, choices=EventType.choices)
    client_name = models.CharField(max_length=200, blank=True)
    provider_name = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=254, blank=True)
    username = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=1000, blank=True)
    created_on = models.DateTimeField(default=timezone.now)
    details = models.JSONField(default=dict, blank=True)

    class Meta(TenantOwned.Meta):
        ordering = ["-created_on", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_on", "-id"], name="events_tenant_time"),
            models.Index(fields=["tenant", "email", "-created_on"], name="events_tenant_email"),
            models.Index(fields=["tenant", "ip_address", "-created_on"], name="events_tenant_ip"),
            models.Index(fields=["tenant", "event_type", "-created_on"], name="events_tenant_type"),
            models.Index(fields=["tenant", "client_name", "-created_on"], name="events_tenant_client"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_type_display()} {self.email}".strip()
