from django.db import models
from django.utils import timezone

from authmon.models import TenantOwned


class Platform(models.TextChoices):
    LINUX = "linux", "Linux"
    MACOS = "macos", "macOS"
    WINDOWS = "windows", "Windows"


class DeviceLog(TenantOwned):
    """A device an identity service saw a user sign in from."""

    device_name = models.CharField(max_length=200)
    email = models.CharField(max_length=254)
    platform = models.CharField(max_length=16, choices=Platform.choices)
    seen_at = models.DateTimeField(default=timezone.now)
    details = models.JSONField(default=dict, blank=True)

    class Meta(TenantOwned.Meta):
        ordering = ["-seen_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-seen_at", "-id"], name="kindkit_tenant_time")]

    def __str__(self) -> str:
        return self.device_name
