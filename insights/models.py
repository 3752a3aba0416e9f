"""Security insights: per-tenant detection settings, alert rules, alert deduplication and review notes.

None of these are log records (they are the console's own configuration), so they are not registered as log kinds;
they are still tenant-owned and reached only through ``objects.for_user(user)`` / ``.for_tenant(tenant)``.
"""

from __future__ import annotations

import secrets

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from authmon.models import Tenant, TenantQuerySet


class Detection(models.TextChoices):
    BRUTE_FORCE = "brute_force", "Brute force"
    DISTRIBUTED_ATTACK = "distributed_attack", "Distributed attack"
    CREDENTIAL_STUFFING = "credential_stuffing", "Credential stuffing"
    SUCCESS_AFTER_FAILURES = "success_after_failures", "Success after failures"
    NEW_IP_AFTER_RESET = "new_ip_after_reset", "New IP or device after a password reset"
    CONCURRENT_SESSIONS = "concurrent_sessions", "Concurrent sessions from different IPs"
    REVOKED_REPORTED_ACTIVE = "revoked_reported_active", "Revoked session or grant reported active"
    MFA_BYPASS = "mfa_bypass", "MFA failures, then a login without MFA"
    BULK_DELETION = "bulk_deletion", "Bulk deletions"
    AFTER_HOURS_ADMIN = "after_hours_admin", "After-hours admin changes"
    FAILED_RESET_EMAILS = "failed_reset_emails", "Failed password-reset e-mails"
    JOB_FAILURES = "job_failures", "Repeated job failures"


class Severity(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class ReviewCadence(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"


class DetectionSettings(models.Model):
    """A tenant's choices for one detection: whether it runs, and thresholds that override the defaults.

    Only thresholds the tenant changed are stored; the defaults live with the detection, so improving a default
    reaches every tenant that never tuned it.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    detection = models.CharField(max_length=40, choices=Detection.choices)
    enabled = models.BooleanField(default=True)
    thresholds = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.CharField(max_length=254, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "detection"], name="insights_settings_tenant_detection_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.tenant.slug}: {self.detection}"


def webhook_secret_new() -> str:
    """A fresh secret for signing a rule's webhook calls."""
    return secrets.token_urlsafe(32)


class AlertRule(models.Model):
    """Which detection alerts whom: e-mail recipients and, optionally, a webhook signed with the rule's secret.

    ``cooldown_minutes`` bounds how often one finding (say, brute force on one account) can alert again.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    detection = models.CharField(max_length=40, choices=Detection.choices)
    recipients = models.TextField(blank=True, help_text="E-mail addresses, separated by commas or new lines.")
    webhook_url = models.URLField(max_length=500, blank=True)
    webhook_secret = models.CharField(max_length=100, default=webhook_secret_new, editable=False)
    enabled = models.BooleanField(default=True)
    cooldown_minutes = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(5), MaxValueValidator(60 * 24 * 30)]
    )
    created_by = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["detection", "pk"]
        indexes = [models.Index(fields=["tenant", "enabled"], name="insights_rule_tenant_enabled")]

    def __str__(self) -> str:
        return f"{self.get_detection_display()} → {', '.join(self.recipient_list) or self.webhook_url}"

    @property
    def recipient_list(self) -> list[str]:
        return split_recipients(self.recipients)


def split_recipients(text: str) -> list[str]:
    """E-mail addresses from a comma-, semicolon- or newline-separated text, in order, without repeats."""
    seen: dict[str, None] = {}
    for part in text.replace(";", ",").replace("\n", ",").split(","):
        address = part.strip()
        if address:
            seen.setdefault(address, None)
    return list(seen)


class AlertMark(models.Model):
    """The deduplication record of one finding under one rule: when it last alerted and on what evidence.

    A finding alerts again only after the rule's cooldown, and only if it has evidence newer than what was already
    alerted, so a periodic evaluation over a sliding look-back window never repeats an alert for the same rows.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="marks")
    fingerprint = models.CharField(max_length=64)
    detection = models.CharField(max_length=40, choices=Detection.choices)
    subject = models.CharField(max_length=300, blank=True)
    first_alerted_at = models.DateTimeField(default=timezone.now)
    last_alerted_at = models.DateTimeField(default=timezone.now)
    last_evidence_at = models.DateTimeField()
    alerts_sent = models.PositiveIntegerField(default=0)
    webhook_status = models.CharField(max_length=300, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        # The tenant leads every tenant-owned unique key, so the table can be distributed by tenant (docs/scaling.md).
        constraints = [
            models.UniqueConstraint(fields=["tenant", "rule", "fingerprint"], name="insights_mark_tenant_rule_fp_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.detection}: {self.subject}"


class ReviewNote(models.Model):
    """A note an admin leaves when a daily, weekly or monthly security review is done: evidence of monitoring."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    cadence = models.CharField(max_length=16, choices=ReviewCadence.choices)
    note = models.TextField(max_length=4000)
    author = models.CharField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["tenant", "cadence", "-created_at"], name="insights_review_tenant_cad")]

    def __str__(self) -> str:
        return f"{self.get_cadence_display()} review by {self.author}"
