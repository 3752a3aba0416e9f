"""E-mail notification logs."""

from django.db import models
from django.utils import timezone

from authmon.models import TenantOwned


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    BOUNCED = "bounced", "Bounced"


class Category(models.TextChoices):
    INVITATION = "invitation", "Invitation"
    PASSWORD_RESET = "password_reset", "Password reset"
    MFA_ENROLLMENT = "mfa_enrollment", "MFA enrollment"
    ACCESS_REQUEST = "access_request", "Access request"
    ALERT = "alert", "Alert"
    SYSTEM = "system", "System"
    WELCOME = "welcome", "Welcome"


class NotificationLog(TenantOwned):
    """One e-mail the identity service sent (or tried to), with its delivery status.

    On PostgreSQL the table is partitioned by month on ``timestamp`` (``authmon/partitions.py``, docs/scaling.md):
    a new unique constraint must include ``timestamp``, and the ``(tenant, external_id)`` one lives in a key table.
    """

    subject = models.CharField(max_length=500)
    recipient = models.CharField(max_length=254)
    cc = models.TextField(blank=True)
    bcc = models.TextField(blank=True)
    timestamp = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    category = models.CharField(max_length=32, choices=Category.choices)
    body = models.TextField(blank=True)

    class Meta(TenantOwned.Meta):
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-timestamp", "-id"], name="notif_tenant_time"),
            models.Index(fields=["tenant", "recipient", "-timestamp"], name="notif_tenant_recipient"),
            models.Index(fields=["tenant", "status", "-timestamp"], name="notif_tenant_status"),
        ]

    def __str__(self) -> str:
        return self.subject
