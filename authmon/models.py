"""Tenancy, accounts, API tokens and the tenant-owned base that every log record extends."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import zoneinfo
from typing import TYPE_CHECKING, Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import connections, models
from django.utils import timezone as dj_timezone

if TYPE_CHECKING:
    from authmon.models import User as UserType


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not a known time zone (use an IANA name such as Europe/Berlin).")


class Tenant(models.Model):
    """A customer of the identity service. Every log record belongs to exactly one tenant.

    Its retention is one :class:`Retention` row per kind it set (``authmon.retention``).
    """

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def retention_days(self, kind: str) -> int:
        """Days this tenant keeps records of ``kind`` (a registered kind's name); 0 keeps them forever."""
        from authmon.retention import retention_days

        return retention_days(self, kind)


class Retention(models.Model):
    """How many days one tenant keeps one kind's records (0: forever), when it chose other than the kind's default.

    One row per tenant and kind, so a new kind needs no column: without a row the kind's ``default_retention_days``
    applies. Read across tenants by the nightly trim (the longest retention decides which month partitions go), so
    it is tenant configuration like the tenant row itself, not one of the tenant's records.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="retention")
    kind = models.CharField(max_length=40)  # a registered kind's name
    days = models.PositiveIntegerField(validators=[MinValueValidator(0)])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "kind"], name="retention_one_per_tenant_kind")]

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.kind} {self.days} days"


class Role(models.TextChoices):
    AUDITOR = "auditor", "Auditor"
    TENANT_ADMIN = "tenant_admin", "Tenant admin"
    SUPER_ADMIN = "super_admin", "Super admin"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("role", Role.SUPER_ADMIN)
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A console user: signs in by e-mail, belongs to one tenant and holds one role.

    Super admins may look at any tenant, one at a time (the tenant switcher keeps the choice in the session).
    """

    email = models.EmailField(unique=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="users")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AUDITOR)
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=dj_timezone.now)
    column_prefs = models.JSONField(default=dict, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = ["tenant"]  # createsuperuser asks for the tenant id; prefer create_admin

    def __str__(self) -> str:
        return self.email

    @property
    def is_super_admin(self) -> bool:
        return self.role == Role.SUPER_ADMIN


class ApiScope(models.TextChoices):
    INGEST = "ingest", "Ingest"
    READ = "read", "Read"


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def tenant_of(self, raw: str) -> int | None:
        """The tenant of the live token ``raw``, found before any tenant is known.

        On PostgreSQL the token table shows the app role only its current tenant's rows, so this asks the
        ``authmon_api_token_tenant`` function (authmon migration 0003), which answers for one digest and nothing
        else; elsewhere it is an ordinary query.
        """
        if not raw or len(raw) > 200:
            return None
        digest = ApiToken.hash(raw)
        connection = connections[self.db]
        if connection.vendor != "postgresql":
            return self.filter(digest=digest, revoked_at__isnull=True).values_list("tenant_id", flat=True).first()
        with connection.cursor() as cursor:
            cursor.execute("SELECT authmon_api_token_tenant(%s)", [digest])
            return cursor.fetchone()[0]

    def authenticate(self, raw: str) -> ApiToken | None:
        """The live token ``raw``, of the database's current tenant (``tenant_of`` tells which to set)."""
        if not raw or len(raw) > 200:
            return None
        token = self.select_related("tenant").filter(digest=ApiToken.hash(raw), revoked_at__isnull=True).first()
        now = dj_timezone.now()
        if token is not None and (token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1)):
            # At most one write a minute: a polling identity service must not lock its token row on every call.
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token


class ApiToken(models.Model):
    """A bearer token for the HTTP API. Belongs to one tenant; only its SHA-256 digest is stored, with its first
    characters (``display_prefix``) to tell tokens apart and revoke one by name. Revoked (``revoked_at``) is final."""

    PREFIX = "amt_"
    DISPLAY_LENGTH = 12  # "amt_" and 8 characters of the secret: 48 of its 256 bits, enough to tell tokens apart

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=200, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    display_prefix = models.CharField(max_length=16, blank=True, default="")  # empty for tokens issued before it
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=dj_timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.tenant.slug}: {self.name or self.pk}"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def issue(cls, *, tenant: Tenant, scopes: list[str], name: str = "") -> tuple[ApiToken, str]:
        """Create a token and return it with the raw secret, which is shown once and never stored."""
        unknown = set(scopes) - set(ApiScope.values)
        if unknown or not scopes:
            raise ValidationError(f"Scopes must be a non-empty subset of {', '.join(ApiScope.values)}.")
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            tenant=tenant,
            name=name,
            digest=cls.hash(raw),
            display_prefix=raw[: cls.DISPLAY_LENGTH],
            scopes=sorted(set(scopes)),
        )
        return token, raw

    @property
    def handle(self) -> str:
        """How people refer to the token: its prefix, or ``#id`` for one issued before prefixes were kept."""
        return self.display_prefix or f"#{self.pk}"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class TenantQuerySet(models.QuerySet):
    """The only door to tenant-owned records: ``Model.objects.for_user(user)`` / ``.for_tenant(tenant)``."""

    def for_tenant(self, tenant: Tenant) -> TenantQuerySet:
        return self.filter(tenant=tenant)

    def for_user(self, user: UserType) -> TenantQuerySet:
        from authmon.tenancy import active_tenant_for

        if not getattr(user, "is_authenticated", False):
            return self.none()
        tenant = active_tenant_for(user)
        return self.filter(tenant=tenant) if tenant is not None else self.none()


class TenantOwned(models.Model):
    """Abstract base of the six record kinds: tenant, optional idempotency key, the tenant door."""

    # No index of its own: every kind's indexes start with the tenant, and a lone tenant index only tempted the
    # planner into reading a tenant's whole month and filtering it (batched trims, key look-ups; docs/scaling.md).
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    external_id = models.CharField(max_length=200, null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True

        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="%(app_label)s_%(class)s_external_id_uniq",
            )
        ]

    def compute_derived(self) -> None:
        """Fill fields computed from others (the audit diff). Called by save() and before every bulk insert."""
