"""Demo data: realistic, consistent records for a few demo tenants, and the console users to look at them.

:func:`demo_data_load` is the service behind ``manage.py load_demo_data`` (and ``make demo``). For each demo tenant
it makes 30 days of activity of a few hundred identity-service users, relative to ``now``:

* logins and logouts across several applications and identity providers, each successful login with its
  ``session_created`` event, its :class:`~sessions_grants.models.Session` and (for OIDC) its grants, token refreshes
  while the grant lives; failed logins, failed MFA, lockouts and password resets with their e-mails;
* scripted incidents that the user guide's use cases need: a brute-force burst on one account, credential stuffing
  from one IP across many accounts, and ``user@example.com`` (user id ``123``) who failed MFA yesterday, locked
  themself out from ``192.168.1.1`` in the last 24 hours and whose password-reset e-mail failed once;
* administrative changes with real before/after JSON, each update continuing from the entity's previous state,
  including a series of changes to the "Google" identity provider last week and a role named "test role";
* job runs of every type, including a nightly "audit log trim", failures with stack traces and a sync that has
  been stuck "running" for hours; e-mails of every category and status.

The generator is deterministic for a given seed and ``now``. Rows are built in memory per tenant and written with
``bulk_create`` inside one transaction per tenant, so 100,000 records load in seconds on SQLite.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from audit.models import AuditLog
from authmon.models import Role, Tenant, User
from authmon.security.masking import mask_instance
from events.models import EventLog, EventType
from jobs.models import JobLog, JobStatus, JobType
from notifications.models import Category, NotificationLog, NotificationStatus
from sessions_grants.models import AccessStatus, Grant, Protocol, Session

DEFAULT_ROWS = 20_000
DEFAULT_TENANTS = 2
DEFAULT_SEED = 42
MIN_ROWS_PER_TENANT = 500
DAYS = 30
BATCH_SIZE = 2_000

# The guide's example person: failed logins, MFA events yesterday, a failed password-reset e-mail, sessions, grants.
GUIDE_EMAIL = "user@example.com"
GUIDE_USER_ID = "123"
OFFICE_IP = "192.168.1.1"  # the guide's "failed logins from IP 192.168.1.1"
BRUTE_FORCE_IP = "198.51.100.77"
MASKED = "***"  # how the identity service shows secret values in audit snapshots
STUFFING_IP = "203.0.113.66"

KINDS: tuple[str, ...] = ("audit", "events", "jobs", "notifications", "sessions", "grants")
MODELS: dict[str, type[models.Model]] = {
    "audit": AuditLog,
    "events": EventLog,
    "jobs": JobLog,
    "notifications": NotificationLog,
    "sessions": Session,
    "grants": Grant,
}

# Known passwords of the demo console users, by role; printed by ``make demo``.
DEMO_PASSWORDS: dict[str, str] = {
    Role.AUDITOR: "demo-auditor-pass",
    Role.TENANT_ADMIN: "demo-admin-pass",
    Role.SUPER_ADMIN: "demo-super-pass",
}
_DEMO_LOCAL_PARTS: dict[str, str] = {
    Role.AUDITOR: "auditor",
    Role.TENANT_ADMIN: "admin",
    Role.SUPER_ADMIN: "superadmin",
}


class DemoDataError(ValueError):
    """The requested demo data cannot be made (bad arguments)."""


# --------------------------------------------------------------------------------------------------------------
# Catalogs
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TenantSpec:
    """One demo tenant: identity, time zone, the e-mail domain of its people and where they sign in from."""

    slug: str
    name: str
    timezone: str
    domain: str
    countries: tuple[tuple[str, str, int], ...]  # (country code, city, weight)


_TENANT_SPECS: tuple[TenantSpec, ...] = (
    TenantSpec(
        "acme",
        "Acme Corp",
        "Europe/Berlin",
        "example.com",
        (("DE", "Berlin", 40), ("DE", "Munich", 20), ("AT", "Vienna", 8), ("NL", "Amsterdam", 8), ("US", "Boston", 6)),
    ),
    TenantSpec(
        "globex",
        "Globex Corporation",
        "America/New_York",
        "example.org",
        (
            ("US", "New York", 40),
            ("US", "Chicago", 20),
            ("CA", "Toronto", 10),
            ("GB", "London", 6),
            ("MX", "Monterrey", 4),
        ),
    ),
    TenantSpec(
        "initech",
        "Initech",
        "Asia/Tokyo",
        "example.net",
        (("JP", "Tokyo", 50), ("JP", "Osaka", 15), ("KR", "Seoul", 8), ("US", "San Jose", 6)),
    ),
    TenantSpec(
        "umbrella",
        "Umbrella Health",
        "Australia/Sydney",
        "umbrella.example",
        (("AU", "Sydney", 45), ("AU", "Melbourne", 20), ("NZ", "Auckland", 8), ("SG", "Singapore", 5)),
    ),
)


def demo_tenant_specs(count: int) -> list[TenantSpec]:
    """The first ``count`` demo tenants: four named ones, then ``demo-5``, ``demo-6``..."""
    specs = list(_TENANT_SPECS[:count])
    for number in range(len(specs) + 1, count + 1):
        specs.append(
            TenantSpec(
                f"demo-{number}",
                f"Demo Tenant {number}",
                "UTC",
                f"tenant{number}.example",
                (("US", "Seattle", 30), ("GB", "London", 20), ("FR", "Paris", 15), ("DE", "Hamburg", 10)),
            )
        )
    return specs


@dataclass(frozen=True)
class App:
    """An application (OAuth/OIDC client or SAML service provider) that the tenant's people sign in to."""

    name: str
    protocol: str
    scopes: tuple[str, ...]
    grant_days: int  # lifetime of its grants; refresh tokens only with offline_access
    weight: int
    slug: str


APPS: tuple[App, ...] = (
    App("auth ui", Protocol.OIDC, ("openid", "profile", "email", "offline_access"), 30, 30, "auth-ui"),
    App("auth ui beta", Protocol.OIDC, ("openid", "profile", "email", "offline_access"), 30, 6, "auth-ui-beta"),
    App("billing portal", Protocol.OIDC, ("openid", "email", "billing:read", "billing:write"), 7, 15, "billing-portal"),
    App("admin console", Protocol.OIDC, ("openid", "profile", "email", "admin"), 1, 5, "admin-console"),
    App("mobile app", Protocol.OIDC, ("openid", "profile", "email", "offline_access"), 90, 14, "mobile-app"),
    App("partner api", Protocol.OIDC, ("openid", "api:read", "api:write", "offline_access"), 30, 4, "partner-api"),
    App("hr portal", Protocol.SAML, (), 0, 8, "hr-portal"),
    App("support desk", Protocol.SAML, (), 0, 6, "support-desk"),
)
APP_BY_NAME = {app.name: app for app in APPS}

PROVIDERS: tuple[tuple[str, int], ...] = (("google", 35), ("azure ad", 28), ("local", 22), ("okta", 15))
MFA_METHODS: tuple[tuple[str | None, int], ...] = (("totp", 45), ("webauthn", 20), ("sms", 10), (None, 25))

USER_AGENTS: tuple[str, ...] = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
    "Safari/605.1.15",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 "
    "Edg/124.0.2478.80",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile "
    "Safari/537.36",
    "AuthMobile/4.2.1 (iPhone; iOS 17.4.1; Scale/3.00)",
    "AuthMobile/4.2.0 (Android 14; Pixel 7)",
)
ATTACK_USER_AGENTS: tuple[str, ...] = (
    "python-requests/2.31.0",
    "curl/8.5.0",
    "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:47.0) Gecko/20100101 Firefox/47.0",
)

FIRST_NAMES: tuple[str, ...] = (
    "Alice", "Bob", "Carol", "David", "Emma", "Felix", "Grace", "Hannah", "Isaac", "Julia", "Karim", "Lena", "Marco",
    "Nina", "Oscar", "Priya", "Quentin", "Rosa", "Samuel", "Tara", "Umar", "Vera", "Walter", "Xenia", "Yusuf", "Zoe",
    "Aiko", "Ben", "Chloe", "Diego", "Elif", "Farah", "Georg", "Hiro", "Ines", "Jonas", "Kai", "Liam", "Mia", "Noah",
    "Olga", "Pablo", "Ravi", "Sofia", "Tom", "Uma", "Viktor", "Wen", "Yara", "Jordan", "Morgan", "Sasha", "Robin",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Smith", "Schmidt", "Garcia", "Müller", "Chen", "Nguyen", "Kowalski", "Rossi", "Okafor", "Tanaka", "Johnson",
    "Fischer", "Martin", "Silva", "Haddad", "Novak", "Larsen", "Dubois", "Weber", "Kim", "Patel", "Lee", "Brown",
    "Wagner", "Lopez", "Ivanova", "Sato", "Kaya", "Andersen", "Moreau", "Becker", "Costa", "Walsh", "Yilmaz",
    "Hoffmann", "Suzuki", "Ortiz", "Nakamura", "Keller", "Bauer", "Evans", "Clarke", "Jansen", "Meyer", "Park", "Reyes",
)  # fmt: skip

HOUR_WEIGHTS: tuple[float, ...] = (
    0.4, 0.3, 0.2, 0.2, 0.3, 0.6, 1.5, 4, 9, 12, 11, 10, 8, 10, 11, 10, 9, 7, 4, 3, 2.5, 2, 1.2, 0.7,
)  # fmt: skip

_TRANSLATE = str.maketrans({"ü": "ue", "ö": "oe", "ä": "ae", "ß": "ss"})


# --------------------------------------------------------------------------------------------------------------
# Stack traces and job catalog
# --------------------------------------------------------------------------------------------------------------

_TB_HEAD = "Traceback (most recent call last):\n"
_RUNNER = (
    '  File "/srv/authmon/authmon/jobs/runner.py", line 112, in run\n    result = handler(job, progress=progress)\n'
)
_SITE = "/srv/authmon/.venv/lib/python3.11/site-packages"

STACKTRACES: dict[str, tuple[str, str]] = {
    "statement_timeout": (
        "Trim aborted after 300 s: canceling statement due to statement timeout",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/jobs/trim.py", line 58, in trim_kind\n'
        '    deleted = queryset.filter(**{f"{kind.time_field}__lt": cutoff}).purge_expired()\n'
        '  File "/srv/authmon/audit/models.py", line 49, in purge_expired\n'
        "    return self._raw_delete(self.db)\n"
        f'  File "{_SITE}/django/db/models/query.py", line 1255, in _raw_delete\n'
        "    cursor = query.get_compiler(using).execute_sql(CURSOR)\n"
        f'  File "{_SITE}/django/db/backends/utils.py", line 105, in _execute\n'
        "    return self.cursor.execute(sql, params)\n"
        f'  File "{_SITE}/psycopg/cursor.py", line 97, in execute\n'
        "    raise ex.with_traceback(None)\n"
        "django.db.utils.OperationalError: canceling statement due to statement timeout\n",
    ),
    "db_connection": (
        "Lost the database connection: server closed the connection unexpectedly",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/sessions_grants/services.py", line 77, in access_expire\n'
        "    updated = Session.objects.filter(expires_at__lt=now, status=AccessStatus.ACTIVE).update(\n"
        f'  File "{_SITE}/django/db/models/query.py", line 1253, in update\n'
        "    rows = query.get_compiler(self.db).execute_sql(CURSOR)\n"
        f'  File "{_SITE}/django/db/backends/utils.py", line 105, in _execute\n'
        "    return self.cursor.execute(sql, params)\n"
        f'  File "{_SITE}/psycopg/cursor.py", line 97, in execute\n'
        "    raise ex.with_traceback(None)\n"
        "django.db.utils.OperationalError: consuming input failed: server closed the connection unexpectedly\n"
        "\tThis probably means the server terminated abnormally\n"
        "\tbefore or while processing the request.\n",
    ),
    "smtp_auth": (
        "SMTP authentication failed for smtp.example.com:587 (535 5.7.8 Authentication credentials invalid)",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/notifications/mailer.py", line 64, in send_batch\n'
        "    connection.open()\n"
        f'  File "{_SITE}/django/core/mail/backends/smtp.py", line 95, in open\n'
        "    self.connection.login(self.username, self.password)\n"
        '  File "/usr/lib/python3.11/smtplib.py", line 750, in login\n'
        "    raise last_exception\n"
        '  File "/usr/lib/python3.11/smtplib.py", line 739, in login\n'
        "    (code, resp) = self.auth(\n"
        '  File "/usr/lib/python3.11/smtplib.py", line 662, in auth\n'
        "    raise SMTPAuthenticationError(code, resp)\n"
        "smtplib.SMTPAuthenticationError: (535, b'5.7.8 Authentication credentials invalid')\n",
    ),
    "smtp_disconnected": (
        "Connection to smtp.example.com:587 dropped after 212 of 480 messages",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/notifications/mailer.py", line 71, in send_batch\n'
        "    sent += connection.send_messages(chunk)\n"
        f'  File "{_SITE}/django/core/mail/backends/smtp.py", line 141, in send_messages\n'
        "    sent = self._send(message)\n"
        f'  File "{_SITE}/django/core/mail/backends/smtp.py", line 155, in _send\n'
        '    self.connection.sendmail(from_email, recipients, message.as_bytes(linesep="\\r\\n"))\n'
        '  File "/usr/lib/python3.11/smtplib.py", line 887, in sendmail\n'
        "    (code, resp) = self.mail(from_addr, esmtp_opts)\n"
        '  File "/usr/lib/python3.11/smtplib.py", line 398, in getreply\n'
        '    raise SMTPServerDisconnected("Connection unexpectedly closed")\n'
        "smtplib.SMTPServerDisconnected: Connection unexpectedly closed\n",
    ),
    "import_row": (
        "Row 418: 'jane.doe@example' is not a valid e-mail address; import rolled back (0 of 1,204 users created)",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/jobs/imports.py", line 93, in import_users\n'
        "    record = UserRow.model_validate(row)\n"
        f'  File "{_SITE}/pydantic/main.py", line 596, in model_validate\n'
        "    return cls.__pydantic_validator__.validate_python(\n"
        "pydantic_core._pydantic_core.ValidationError: 1 validation error for UserRow\n"
        "email\n"
        "  value is not a valid email address: The part after the @-sign is not valid. It should have a period.\n"
        "    [type=value_error, input_value='jane.doe@example', input_type=str]\n",
    ),
    "import_key": (
        "Column 'department' missing from groups.csv (found: name, description, owner)",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/jobs/imports.py", line 141, in import_groups\n'
        '    department = row["department"]\n'
        "KeyError: 'department'\n",
    ),
    "disk_full": (
        "Export failed after 612,000 rows: no space left on device",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/authmon/exports.py", line 120, in export_to_file\n'
        "    for chunk in stream:\n"
        '  File "/srv/authmon/authmon/exports.py", line 88, in write_json\n'
        "    handle.write(encoder.encode(record))\n"
        "OSError: [Errno 28] No space left on device\n",
    ),
    "archive_permission": (
        "Cannot write the archive: permission denied on /var/lib/authmon/archives",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/audit/archive.py", line 52, in archive_audit\n'
        '    with open(target, "wb") as handle:\n'
        "PermissionError: [Errno 13] Permission denied: '/var/lib/authmon/archives/audit-{month}.json'\n",
    ),
    "sync_rate_limit": (
        "Okta API rate limit exceeded (429) after 3 retries; will retry at the next run",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/jobs/sync.py", line 77, in sync_groups\n'
        "    page = client.list_groups(after=cursor, limit=200)\n"
        '  File "/srv/authmon/jobs/connectors/okta.py", line 45, in list_groups\n'
        "    response.raise_for_status()\n"
        f'  File "{_SITE}/requests/models.py", line 1021, in raise_for_status\n'
        "    raise HTTPError(http_error_msg, response=self)\n"
        "requests.exceptions.HTTPError: 429 Client Error: Too Many Requests for url: "
        "https://example.okta.com/api/v1/groups?limit=200\n",
    ),
    "sync_auth": (
        "Microsoft Graph rejected the client credentials (401): the client secret has expired",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/jobs/sync.py", line 51, in sync_directory\n'
        "    token = connector.acquire_token()\n"
        '  File "/srv/authmon/jobs/connectors/azure.py", line 38, in acquire_token\n'
        '    raise ConnectorAuthError(result.get("error_description", "unauthorized"))\n'
        "jobs.connectors.base.ConnectorAuthError: AADSTS7000222: The provided client secret keys for app "
        "'3f1c2a9e-0d4b-4c55-9a7e-1b2c3d4e5f60' are expired.\n",
    ),
    "sync_timeout": (
        "SCIM endpoint timed out after 30 s (read timeout)",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/jobs/sync.py", line 104, in sync_scim\n'
        "    response = session.get(url, params=params, timeout=30)\n"
        f'  File "{_SITE}/requests/sessions.py", line 602, in get\n'
        '    return self.request("GET", url, **kwargs)\n'
        f'  File "{_SITE}/requests/adapters.py", line 713, in send\n'
        "    raise ReadTimeout(e, request=request)\n"
        "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='wd5-services.example.com', port=443): "
        "Read timed out. (read timeout=30)\n",
    ),
}

FAILURES_BY_TYPE: dict[str, tuple[str, ...]] = {
    JobType.TRIM: ("statement_timeout", "db_connection"),
    JobType.EMAIL: ("smtp_auth", "smtp_disconnected"),
    JobType.IMPORT: ("import_row", "import_key"),
    JobType.EXPORT: ("disk_full", "db_connection"),
    JobType.ARCHIVE: ("archive_permission", "statement_timeout"),
    JobType.SYNC: ("sync_rate_limit", "sync_auth", "sync_timeout"),
    JobType.CLEANUP: ("db_connection",),
}

# (name, type, weight, typical duration in seconds) of the recurring jobs that fill the job log.
JOB_CATALOG: tuple[tuple[str, str, int, int], ...] = (
    ("event log trim", JobType.TRIM, 6, 40),
    ("notification log trim", JobType.TRIM, 3, 12),
    ("session and grant trim", JobType.TRIM, 3, 20),
    ("expired session cleanup", JobType.CLEANUP, 18, 4),
    ("expired grant cleanup", JobType.CLEANUP, 9, 3),
    ("send password reset emails", JobType.EMAIL, 8, 6),
    ("send invitation emails", JobType.EMAIL, 6, 9),
    ("weekly security digest email", JobType.EMAIL, 1, 45),
    ("import users from HR CSV", JobType.IMPORT, 3, 70),
    ("import groups from LDAP export", JobType.IMPORT, 2, 30),
    ("export events (csv)", JobType.EXPORT, 5, 25),
    ("export audit logs (json)", JobType.EXPORT, 3, 35),
    ("audit log archive", JobType.ARCHIVE, 2, 120),
    ("sync Azure AD directory", JobType.SYNC, 8, 180),
    ("sync Okta groups", JobType.SYNC, 6, 60),
    ("SCIM sync: Workday", JobType.SYNC, 4, 240),
)


# --------------------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    """A demo console user and the password it was given."""

    email: str
    password: str
    role: str
    tenant: str


@dataclass(frozen=True)
class DemoProgress:
    """How far the load is: rows of one kind written for one tenant, and rows written overall."""

    tenant: str
    kind: str
    done: int
    kind_total: int
    overall_done: int
    overall_total: int

    @property
    def percent(self) -> int:
        return int(100 * self.overall_done / self.overall_total) if self.overall_total else 100


ProgressCallback = Callable[[DemoProgress], None]


@dataclass
class DemoResult:
    """What :func:`demo_data_load` did: rows per tenant and kind, tenants skipped, the console logins."""

    logins: list[DemoLogin] = field(default_factory=list)
    loaded: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(sum(counts.values()) for counts in self.loaded.values())


# --------------------------------------------------------------------------------------------------------------
# Services
# --------------------------------------------------------------------------------------------------------------


def demo_data_load(
    *,
    tenants: int = DEFAULT_TENANTS,
    rows: int = DEFAULT_ROWS,
    seed: int = DEFAULT_SEED,
    reset: bool = False,
    now: dt.datetime | None = None,
    progress: ProgressCallback | None = None,
) -> DemoResult:
    """Create the demo tenants, their console users and ``rows`` records in total across tenants and kinds.

    A demo tenant that already holds records is left as it is unless ``reset`` is true, in which case its records
    are deleted and made anew; so running the load twice never duplicates data. The demo console users are always
    (re)set to their known passwords and roles, so the returned logins work.
    """
    if tenants < 1:
        raise DemoDataError("--tenants must be at least 1.")
    if rows < MIN_ROWS_PER_TENANT * tenants:
        raise DemoDataError(
            f"--rows must be at least {MIN_ROWS_PER_TENANT:,} per tenant ({MIN_ROWS_PER_TENANT * tenants:,} for "
            f"{tenants} tenant{'s' if tenants > 1 else ''}): the scripted incidents and nightly jobs need room."
        )
    started = time.monotonic()
    now = now or timezone.now()
    specs = demo_tenant_specs(tenants)
    result = DemoResult()

    tenant_objs = [demo_tenant_ensure(spec=spec) for spec in specs]
    result.logins = demo_users_ensure(tenants=tenant_objs)

    shares = [rows // tenants + (1 if index < rows % tenants else 0) for index in range(tenants)]
    todo: list[tuple[TenantSpec, Tenant, int]] = []
    for spec, tenant, share in zip(specs, tenant_objs, shares, strict=True):
        if not reset and _has_records(tenant):
            result.skipped.append(spec.slug)
        else:
            todo.append((spec, tenant, share))

    overall_total = sum(share for _, _, share in todo)
    overall_done = 0
    for spec, tenant, share in todo:
        generator = _TenantData(spec=spec, tenant=tenant, rows=share, rng=random.Random(f"{seed}:{spec.slug}"), now=now)
        generator.generate()
        with transaction.atomic():
            if reset:
                _delete_records(tenant)
            counts: dict[str, int] = {}
            for kind in KINDS:
                objs = generator.rows[kind]
                if kind == "audit":  # the audit chain (audit.chain) takes records in the order they were written
                    objs.sort(key=lambda record: record.timestamp)
                for obj in objs:
                    mask_instance(obj)  # as on ingest: secrets never reach storage
                counts[kind] = len(objs)
                for start in range(0, len(objs), BATCH_SIZE):
                    batch = objs[start : start + BATCH_SIZE]
                    MODELS[kind]._default_manager.bulk_create(batch, batch_size=BATCH_SIZE)
                    overall_done += len(batch)
                    if progress is not None:
                        progress(
                            DemoProgress(
                                tenant=spec.slug,
                                kind=kind,
                                done=start + len(batch),
                                kind_total=len(objs),
                                overall_done=overall_done,
                                overall_total=overall_total,
                            )
                        )
        result.loaded[spec.slug] = counts
    result.seconds = time.monotonic() - started
    return result


def demo_tenant_ensure(*, spec: TenantSpec) -> Tenant:
    """Get or create the tenant described by ``spec``; an existing tenant keeps its name and settings."""
    tenant, _ = Tenant.objects.get_or_create(slug=spec.slug, defaults={"name": spec.name, "timezone": spec.timezone})
    return tenant


def demo_users_ensure(*, tenants: Sequence[Tenant]) -> list[DemoLogin]:
    """Make sure each demo tenant has an auditor and a tenant admin (a customer's admins), and that the operator's
    super admin exists; for the demo it lives in the first tenant, whose data it shows until it switches tenant.

    Existing demo users get their known password, role and tenant back, so the printed logins always work.
    """
    logins: list[DemoLogin] = []
    for index, tenant in enumerate(tenants):
        roles = [Role.AUDITOR, Role.TENANT_ADMIN] + ([Role.SUPER_ADMIN] if index == 0 else [])
        for role in roles:
            email = f"{_DEMO_LOCAL_PARTS[role]}@{tenant.slug}.example.com"
            password = DEMO_PASSWORDS[role]
            user = User.objects.filter(email=email).first()
            if user is None:
                User.objects.create_user(email, password, tenant=tenant, role=role, full_name=f"Demo {role.label}")
            else:
                user.tenant, user.role, user.is_active = tenant, role, True
                user.set_password(password)
                user.save()
            logins.append(DemoLogin(email=email, password=password, role=str(role), tenant=tenant.slug))
    return logins


def _has_records(tenant: Tenant) -> bool:
    return any(model._default_manager.filter(tenant=tenant).exists() for model in MODELS.values())


def _delete_records(tenant: Tenant) -> None:
    # Audit records refuse ordinary deletes; purge_expired is their one sanctioned removal path.
    AuditLog.objects.filter(tenant=tenant).purge_expired()
    for kind, model in MODELS.items():
        if kind != "audit":
            model._default_manager.filter(tenant=tenant).delete()


# --------------------------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------------------------


@dataclass
class _Person:
    user_id: str
    email: str
    username: str
    name: str
    provider: str
    apps: list[str]
    ips: list[str]
    agents: list[str]
    country: str
    city: str
    mfa: str | None
    weight: float


@dataclass
class _Resource:
    """An administered object whose state evolves through the audit log."""

    rtype: str
    name: str
    state: dict[str, Any]
    alive: bool = True


class _TenantData:
    """Builds one tenant's unsaved records in memory, within an exact row budget."""

    def __init__(self, *, spec: TenantSpec, tenant: Tenant, rows: int, rng: random.Random, now: dt.datetime) -> None:
        self.spec, self.tenant, self.total, self.rng, self.now = spec, tenant, rows, rng, now
        self.tz = tenant.tz
        self.domain = spec.domain
        self.rows: dict[str, list[Any]] = {kind: [] for kind in KINDS}
        hour = now.replace(minute=0, second=0, microsecond=0)
        self.slots = [hour - dt.timedelta(hours=h) for h in range(DAYS * 24)]
        busy, flat = [], []
        for slot in self.slots:
            local = slot.astimezone(self.tz)
            busy.append(HOUR_WEIGHTS[local.hour] * (0.3 if local.weekday() >= 5 else 1.0))
            flat.append(1.0)
        self.busy_cum = _cumulative(busy)
        self.flat_cum = _cumulative(flat)
        self.admins = [
            f"{name}@{self.domain}"
            for name in ("alice.admin", "bob.ops", "carol.security", "dmitri.it", "erin.helpdesk")
        ]
        self.people: list[_Person] = []
        self.people_cum: list[float] = []
        self.by_email: dict[str, _Person] = {}

    # ---- small helpers -------------------------------------------------------------------------------------------

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hexid(self, length: int = 16) -> str:
        return f"{self.rng.getrandbits(length * 4):0{length}x}"

    def local(self, days_ago: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
        """A wall-clock time in the tenant's zone ``days_ago`` days before today, never later than now."""
        day = self.now.astimezone(self.tz).date() - dt.timedelta(days=days_ago)
        moment = dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=self.tz).astimezone(dt.UTC)
        return min(moment, self.now - dt.timedelta(minutes=2))

    def ago(self, **delta: float) -> dt.datetime:
        return self.now - dt.timedelta(**delta)

    def pick_time(self, cum: list[float], margin_minutes: float = 5) -> dt.datetime:
        slot = self.rng.choices(self.slots, cum_weights=cum)[0]
        moment = slot + dt.timedelta(seconds=self.rng.random() * 3600)
        latest = self.now - dt.timedelta(minutes=margin_minutes)
        if moment > latest:
            moment = latest - dt.timedelta(seconds=self.rng.random() * 1800)
        return moment

    def count(self, *kinds: str) -> int:
        return sum(len(self.rows[kind]) for kind in kinds)

    def location(self) -> tuple[str, str]:
        country, city, _ = self.rng.choices(self.spec.countries, weights=[c[2] for c in self.spec.countries])[0]
        return country, city

    # ---- orchestration -------------------------------------------------------------------------------------------

    def generate(self) -> None:
        self.build_people()
        self.build_resources()
        self.scenario_guide_user()
        self.scenario_brute_force()
        self.scenario_credential_stuffing()
        self.scripted_audit()
        self.scripted_jobs()
        self.scripted_notifications()

        audit_target = max(self.count("audit"), round(self.total * 0.06))
        jobs_target = max(self.count("jobs"), round(self.total * 0.04))
        self.notifications_target = max(self.count("notifications"), round(self.total * 0.08))
        auth_target = self.total - audit_target - jobs_target - self.notifications_target
        if auth_target < self.count("events", "sessions", "grants"):
            raise DemoDataError(f"--rows is too small for tenant {self.spec.slug}.")
        self.fill_auth(auth_target)
        self.fill_audit(audit_target)
        self.fill_jobs(jobs_target)
        self.fill_notifications(self.notifications_target)

    # ---- people --------------------------------------------------------------------------------------------------

    def build_people(self) -> None:
        rng = self.rng
        count = max(60, min(400, self.total // 40))
        ids = rng.sample(range(1000, 100_000), count)
        providers, provider_weights = zip(*PROVIDERS, strict=True)
        mfa_methods, mfa_weights = zip(*MFA_METHODS, strict=True)
        app_names = [app.name for app in APPS]
        app_weights = [app.weight for app in APPS]
        used: set[str] = {GUIDE_EMAIL}
        for index in range(count):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            ascii_first, ascii_last = first.lower().translate(_TRANSLATE), last.lower().translate(_TRANSLATE)
            local_part = rng.choice([f"{ascii_first}.{ascii_last}", f"{ascii_first[0]}{ascii_last}", ascii_first])
            email = f"{local_part}@{self.domain}"
            suffix = 2
            while email in used:
                email = f"{local_part}{suffix}@{self.domain}"
                suffix += 1
            used.add(email)
            provider = rng.choices(providers, weights=provider_weights)[0]
            country, city = self.location()
            apps = list(dict.fromkeys(rng.choices(app_names, weights=app_weights, k=rng.randint(1, 3))))
            office = rng.random() < 0.45
            ips = [self.office_ip() if office else self.home_ip()]
            if rng.random() < 0.5:
                ips.append(self.home_ip())
            agents = rng.sample(USER_AGENTS, rng.randint(1, 2))
            self.add_person(
                _Person(
                    user_id=str(ids[index]),
                    email=email,
                    username=(f"{ascii_first[0]}{ascii_last}" if provider in {"local", "okta"} else email),
                    name=f"{first} {last}",
                    provider=provider,
                    apps=apps,
                    ips=ips,
                    agents=agents,
                    country=country,
                    city=city,
                    mfa=rng.choices(mfa_methods, weights=mfa_weights)[0],
                    weight=min(rng.paretovariate(1.4), 25.0),
                )
            )
        country, city = self.spec.countries[0][:2]
        self.guide = self.add_person(
            _Person(
                user_id=GUIDE_USER_ID,
                email=GUIDE_EMAIL,
                username="user",
                name="Una Ser",
                provider="local",
                apps=["auth ui", "billing portal", "mobile app", "hr portal"],
                ips=[OFFICE_IP, "198.51.100.23"],
                agents=[USER_AGENTS[0], USER_AGENTS[7]],
                country=country,
                city=city,
                mfa="totp",
                weight=6.0,
            )
        )
        self.people_cum = _cumulative([person.weight for person in self.people])

    def add_person(self, person: _Person) -> _Person:
        self.people.append(person)
        self.by_email[person.email] = person
        return person

    def office_ip(self) -> str:
        return self.rng.choice([OFFICE_IP, f"10.0.0.{self.rng.randint(2, 254)}", f"10.0.0.{self.rng.randint(2, 254)}"])

    def home_ip(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.45:
            return f"198.51.100.{rng.randint(1, 254)}"
        if roll < 0.85:
            return f"192.0.2.{rng.randint(1, 254)}"
        return f"2001:db8:{rng.randint(1, 0xFFFF):x}::{rng.randint(1, 0xFFFF):x}"

    def person(self) -> _Person:
        return self.rng.choices(self.people, cum_weights=self.people_cum)[0]

    # ---- events, sessions, grants --------------------------------------------------------------------------------

    def event(
        self,
        kind: str,
        person: _Person | None,
        when: dt.datetime,
        *,
        email: str = "",
        app: str = "",
        provider: str = "",
        ip: str = "",
        agent: str = "",
        **details: Any,
    ) -> None:
        """Queue one event; ``person`` fills the usual fields, keywords override them."""
        base: dict[str, Any] = {}
        if person is not None:
            base = {"country": person.country, "city": person.city}
        base.update(details)
        base.setdefault("request_id", f"req_{self.hexid(12)}")
        self.rows["events"].append(
            EventLog(
                tenant_id=self.tenant.pk,
                event_type=kind,
                client_name=app,
                provider_name=provider or (person.provider if person else ""),
                email=email or (person.email if person else ""),
                username=person.username if person and email in ("", person.email) else "",
                ip_address=ip or (person.ips[0] if person else None),
                user_agent=agent or (person.agents[0] if person else ""),
                created_on=when,
                details=base,
            )
        )

    def login(
        self,
        person: _Person,
        when: dt.datetime,
        *,
        app: str | None = None,
        ip: str | None = None,
        agent: str | None = None,
        failures: int = 0,
        mfa_failures: int = 0,
        remember: bool | None = None,
        logout_after: dt.timedelta | None = None,
        revoke: tuple[dt.datetime, str, str] | None = None,
        extra_grant: bool | None = None,
        refreshes: int | None = None,
        risk: int | None = None,
        scripted: bool = False,
    ) -> Session:
        """A successful sign-in with everything it leaves behind: events, the session, grants, refreshes, logout.

        Unless ``scripted``, the session may also end by a random logout or admin revocation.
        """
        rng = self.rng
        app_obj = APP_BY_NAME[app or rng.choice(person.apps)]
        ip = ip or rng.choice(person.ips)
        agent = agent or rng.choice(person.agents)
        common = {"app": app_obj.name, "ip": ip, "agent": agent}
        t = when
        for _ in range(failures):
            reason = "invalid_password" if person.provider == "local" else rng.choice(["invalid_password", "idp_error"])
            self.event(EventType.LOGIN_FAILED, person, t, **common, reason=reason, protocol=app_obj.protocol)
            t += dt.timedelta(seconds=rng.randint(8, 50))
        session_id = self.uid()
        if person.mfa:
            for attempt in range(1, mfa_failures + 1):
                self.event(
                    EventType.MFA_FAILED,
                    person,
                    t,
                    **common,
                    reason="invalid_code",
                    mfa_method=person.mfa,
                    attempt=attempt,
                    session_id=session_id,
                )
                t += dt.timedelta(seconds=rng.randint(10, 40))
            t += dt.timedelta(seconds=rng.randint(5, 25))
            self.event(EventType.MFA_VERIFIED, person, t, **common, mfa_method=person.mfa, session_id=session_id)
        t += dt.timedelta(seconds=1)
        self.event(
            EventType.LOGIN,
            person,
            t,
            **common,
            session_id=session_id,
            protocol=app_obj.protocol,
            auth_method="password" if person.provider == "local" else "federated",
            mfa_method=person.mfa,
            risk_score=risk if risk is not None else rng.randint(0, 30),
        )
        self.event(EventType.SESSION_CREATED, person, t, **common, session_id=session_id, protocol=app_obj.protocol)

        remember = rng.random() < 0.2 if remember is None else remember
        lifetime = dt.timedelta(days=14) if remember else dt.timedelta(hours=12 if app_obj.protocol == "OIDC" else 8)
        expires = t + lifetime
        status, revoked_at, ended = AccessStatus.ACTIVE, None, None
        if not scripted and logout_after is None and rng.random() < 0.4:
            logout_after = dt.timedelta(minutes=rng.randint(4, 9 * 60))
        if not scripted and revoke is None and rng.random() < 0.02:
            revoke_at = t + dt.timedelta(minutes=rng.randint(10, 600))
            if revoke_at < self.now and revoke_at < expires:
                revoke = (revoke_at, rng.choice(self.admins), rng.choice(["suspicious activity", "device lost"]))
        if revoke is not None:
            status, revoked_at = AccessStatus.REVOKED, revoke[0]
            ended = {"reason": "revoked", "by": revoke[1], "comment": revoke[2]}
        elif logout_after is not None and t + logout_after < min(expires, self.now):
            expires = t + logout_after
            status = AccessStatus.EXPIRED
            ended = {"reason": "logout"}
            self.event(EventType.LOGOUT, person, expires, **common, session_id=session_id, reason="user_initiated")
        elif expires <= self.now:
            status = AccessStatus.EXPIRED

        grant_ids: list[str] = []
        if app_obj.protocol == Protocol.OIDC:
            grant_apps = [app_obj]
            want_extra = rng.random() < 0.15 if extra_grant is None else extra_grant
            others = [APP_BY_NAME[name] for name in person.apps if APP_BY_NAME[name].protocol == Protocol.OIDC]
            others = [other for other in others if other is not app_obj]
            if app_obj.name != "auth ui":
                others = others or [APP_BY_NAME["auth ui"]]
            if want_extra and others:
                grant_apps.append(rng.choice(others))
            for grant_app in grant_apps:
                grant_ids.append(self.grant(person, grant_app, t, session_id, revoked_at, ended, refreshes, common, ip))
        details: dict[str, Any] = {
            "claims": self.claims(person, app_obj, t, lifetime),
            "scopes": list(app_obj.scopes),
            "parameters": self.parameters(app_obj),
            "grant_ids": grant_ids,
            "ip_address": ip,
            "user_agent": agent,
            "provider": person.provider,
            "remember_me": remember,
        }
        if ended:
            details["ended"] = ended
        session = Session(
            tenant_id=self.tenant.pk,
            session_id=session_id,
            protocol=app_obj.protocol,
            client_id=app_obj.name,
            user_id=person.user_id,
            email=person.email,
            created_at=t,
            expires_at=expires,
            status=status,
            details=details,
            revoked_at=revoked_at,
        )
        self.rows["sessions"].append(session)
        return session

    def grant(
        self,
        person: _Person,
        app: App,
        t: dt.datetime,
        session_id: str,
        session_revoked: dt.datetime | None,
        ended: dict[str, Any] | None,
        refreshes: int | None,
        common: dict[str, str],
        ip: str,
    ) -> str:
        rng = self.rng
        grant_id = f"gr_{self.hexid(24)}"
        offline = "offline_access" in app.scopes
        expires = t + dt.timedelta(days=app.grant_days)
        status, revoked_at = AccessStatus.ACTIVE, None
        details: dict[str, Any] = {
            "scopes": list(app.scopes),
            "grant_type": "authorization_code",
            "refresh_token": offline,
            "consent": rng.choice(["explicit", "implicit", "implicit"]),
            "client_uuid": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{app.slug}.{self.domain}")),
        }
        if session_revoked is not None and ended is not None:
            status, revoked_at = AccessStatus.REVOKED, session_revoked
            details["revoked"] = {"by": ended["by"], "reason": ended["comment"], "with_session": True}
        elif rng.random() < 0.03:
            revoked_at = t + dt.timedelta(hours=rng.randint(1, 24 * 6))
            if revoked_at < self.now and revoked_at < expires:
                status = AccessStatus.REVOKED
                details["revoked"] = {"by": person.email, "reason": "user revoked consent", "with_session": False}
            else:
                revoked_at = None
        if status == AccessStatus.ACTIVE and expires <= self.now:
            status = AccessStatus.EXPIRED
        self.rows["grants"].append(
            Grant(
                tenant_id=self.tenant.pk,
                grant_id=grant_id,
                email=person.email,
                user_id=person.user_id,
                provider=person.provider,
                client=app.name,
                session_id=session_id,
                created_at=t,
                expires_at=expires,
                status=status,
                details=details,
                revoked_at=revoked_at,
            )
        )
        if offline:
            end = min(revoked_at or expires, expires, self.now)
            count = rng.choice([0, 0, 1, 1, 2]) if refreshes is None else refreshes
            refresh_at = t
            for _ in range(count):
                refresh_at += dt.timedelta(hours=rng.uniform(0.9, 30))
                if refresh_at >= end:
                    break
                self.event(
                    EventType.TOKEN_REFRESHED,
                    person,
                    refresh_at,
                    app=app.name,
                    ip=ip,
                    agent=common["agent"],
                    grant_id=grant_id,
                    session_id=session_id,
                    scopes=list(app.scopes),
                )
        return grant_id

    def claims(self, person: _Person, app: App, t: dt.datetime, lifetime: dt.timedelta) -> dict[str, Any]:
        if app.protocol == Protocol.SAML:
            return {
                "NameID": person.email,
                "NameIDFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
                "SessionIndex": f"_{self.hexid(32)}",
                "attributes": {"displayName": person.name, "mail": person.email, "employeeNumber": person.user_id},
            }
        issued = int(t.timestamp())
        return {
            "iss": f"https://login.{self.domain}",
            "sub": person.user_id,
            "aud": app.slug,
            "email": person.email,
            "name": person.name,
            "idp": person.provider,
            "amr": (["pwd"] if person.provider == "local" else ["fed"])
            + ([{"totp": "otp", "webauthn": "hwk", "sms": "sms"}[person.mfa]] if person.mfa else []),
            "iat": issued,
            "exp": issued + int(lifetime.total_seconds()),
        }

    def parameters(self, app: App) -> dict[str, Any]:
        if app.protocol == Protocol.SAML:
            return {
                "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
                "acs_url": f"https://{app.slug}.{self.domain}/saml/acs",
                "entity_id": f"https://{app.slug}.{self.domain}/saml/metadata",
                "relay_state": "/",
            }
        return {
            "response_type": "code",
            "redirect_uri": f"https://{app.slug}.{self.domain}/oauth/callback",
            "scope": " ".join(app.scopes),
            "code_challenge_method": "S256",
            "prompt": self.rng.choice(["login", "none", "select_account"]),
            "state": self.hexid(16),
        }

    def password_reset(
        self, person: _Person, when: dt.datetime, *, email_status: str = NotificationStatus.SENT
    ) -> None:
        """A reset request, its e-mail and, if the mail went out, the completed reset."""
        ip = self.rng.choice(person.ips)
        self.event(EventType.PASSWORD_RESET, person, when, app="auth ui", ip=ip, stage="requested", method="email_link")
        self.mail(
            Category.PASSWORD_RESET,
            person.email,
            when + dt.timedelta(seconds=4),
            status=email_status,
            subject="Password reset",
        )
        completed = when + dt.timedelta(minutes=self.rng.randint(2, 15))
        if email_status == NotificationStatus.SENT and completed < self.now:
            self.event(
                EventType.PASSWORD_RESET,
                person,
                completed,
                app="auth ui",
                ip=ip,
                stage="completed",
                method="email_link",
            )

    # ---- scenarios -----------------------------------------------------------------------------------------------

    def scenario_guide_user(self) -> None:
        """user@example.com (id 123): the person of the guide's use cases."""
        person = self.guide
        # Long-lived sessions that are still active, on several applications, and one SAML session.
        self.login(person, self.ago(days=3, hours=2), app="billing portal", remember=True, scripted=True)
        self.login(
            person,
            self.ago(days=5, hours=7),
            app="mobile app",
            ip="198.51.100.23",
            agent=USER_AGENTS[7],
            remember=True,
            refreshes=2,
            extra_grant=True,
            scripted=True,
        )
        self.login(person, self.ago(days=9), app="hr portal", logout_after=dt.timedelta(minutes=25), scripted=True)
        # An old session an admin revoked after the phone was lost.
        lost = self.ago(days=12, hours=3)
        self.login(
            person,
            lost,
            app="mobile app",
            remember=True,
            revoke=(lost + dt.timedelta(hours=30), self.admins[2], "device lost"),
            scripted=True,
        )
        # Yesterday: two wrong TOTP codes, then a TOTP reset by the help desk, then success.
        morning = self.local(1, 8, 47)
        self.login(
            person,
            morning,
            app="auth ui",
            ip=OFFICE_IP,
            mfa_failures=2,
            logout_after=dt.timedelta(hours=8, minutes=10),
            scripted=True,
        )
        self.mail(Category.MFA_ENROLLMENT, person.email, self.local(1, 9, 5), subject="TOTP reset")
        self.event(
            EventType.MFA_FAILED,
            person,
            self.local(1, 16, 2),
            app="billing portal",
            ip=OFFICE_IP,
            reason="expired_code",
            mfa_method="totp",
            attempt=1,
        )
        self.event(
            EventType.MFA_VERIFIED, person, self.local(1, 16, 3), app="billing portal", ip=OFFICE_IP, mfa_method="totp"
        )
        # In the last 24 hours: locked out from the office, the reset e-mail fails once, then works.
        start = self.ago(hours=5, minutes=12)
        for attempt in range(1, 6):
            self.event(
                EventType.LOGIN_FAILED,
                person,
                start + dt.timedelta(seconds=40 * attempt),
                app="auth ui",
                ip=OFFICE_IP,
                reason="invalid_password",
                attempt=attempt,
                protocol="OIDC",
            )
        locked = start + dt.timedelta(seconds=40 * 5 + 1)
        self.event(
            EventType.ACCOUNT_LOCKED,
            person,
            locked,
            app="auth ui",
            ip=OFFICE_IP,
            reason="too_many_failed_attempts",
            failed_attempts=5,
            locked_until=(locked + dt.timedelta(minutes=15)).isoformat(),
        )
        self.mail(Category.ALERT, person.email, locked + dt.timedelta(seconds=3), subject="Your account was locked")
        self.event(
            EventType.LOGIN_FAILED,
            person,
            locked + dt.timedelta(minutes=2),
            app="auth ui",
            ip=OFFICE_IP,
            reason="account_locked",
            protocol="OIDC",
        )
        self.password_reset(person, locked + dt.timedelta(minutes=6), email_status=NotificationStatus.FAILED)
        self.password_reset(person, locked + dt.timedelta(minutes=21))
        self.login(
            person,
            locked + dt.timedelta(minutes=31),
            app="auth ui",
            ip=OFFICE_IP,
            remember=False,
            refreshes=1,
            scripted=True,
        )

    def scenario_brute_force(self) -> None:
        """Two days ago at night: 30 password guesses for one local account in four minutes, then a lockout."""
        victim = next((p for p in self.people if p.provider == "local" and p is not self.guide), self.people[0])
        start = self.local(2, 22, 5)
        agent = ATTACK_USER_AGENTS[0]
        for attempt in range(1, 31):
            when = start + dt.timedelta(seconds=8 * attempt)
            reason = "invalid_password" if attempt <= 5 else "account_locked"
            self.event(
                EventType.LOGIN_FAILED,
                victim,
                when,
                app="auth ui",
                ip=BRUTE_FORCE_IP,
                agent=agent,
                reason=reason,
                attempt=attempt,
                country="NL",
                city="Amsterdam",
                risk_score=95,
            )
            if attempt == 5:
                self.event(
                    EventType.ACCOUNT_LOCKED,
                    victim,
                    when + dt.timedelta(seconds=1),
                    app="auth ui",
                    ip=BRUTE_FORCE_IP,
                    agent=agent,
                    reason="too_many_failed_attempts",
                    failed_attempts=5,
                    country="NL",
                    city="Amsterdam",
                )
                self.mail(
                    Category.ALERT, victim.email, when + dt.timedelta(seconds=5), subject="Your account was locked"
                )
        self.password_reset(victim, self.local(1, 8, 20))
        self.login(victim, self.local(1, 8, 40), app="auth ui")

    def scenario_credential_stuffing(self) -> None:
        """Four days ago: one IP tries many accounts once each; two of them work and are then revoked."""
        rng = self.rng
        accounts = max(25, min(150, self.total // 200))
        start = self.local(4, 3, 12)
        known = rng.sample([p for p in self.people if p is not self.guide], min(accounts // 2, len(self.people) - 1))
        targets: list[tuple[_Person | None, str]] = [(p, p.email) for p in known]
        while len(targets) < accounts:
            first, last = rng.choice(FIRST_NAMES).lower(), rng.choice(LAST_NAMES).lower().translate(_TRANSLATE)
            targets.append((None, f"{first}.{last}{rng.randint(1, 99)}@{self.domain}"))
        rng.shuffle(targets)
        step = dt.timedelta(seconds=1500 / accounts)
        compromised = 0
        for index, (person, email) in enumerate(targets):
            when = start + step * index
            agent = rng.choice(ATTACK_USER_AGENTS)
            if person is not None and compromised < 2 and person.provider == "local" and index > 4:
                compromised += 1
                session = self.login(
                    person,
                    when,
                    app="auth ui",
                    ip=STUFFING_IP,
                    agent=agent,
                    risk=88,
                    remember=False,
                    revoke=(when + dt.timedelta(minutes=47), self.admins[2], "credential stuffing response"),
                    scripted=True,
                )
                self.mail(
                    Category.ALERT,
                    person.email,
                    session.created_at + dt.timedelta(seconds=6),
                    subject="New sign-in to your account from Russia",
                )
                continue
            reason = "invalid_password" if person is not None else "unknown_user"
            self.event(
                EventType.LOGIN_FAILED,
                person,
                when,
                email=email,
                app="auth ui",
                ip=STUFFING_IP,
                agent=agent,
                provider="local",
                reason=reason,
                country="RU",
                city="Moscow",
                risk_score=rng.randint(80, 99),
            )
        self.mail(
            Category.SYSTEM,
            f"security@{self.domain}",
            start + dt.timedelta(minutes=27),
            subject=f"Security alert: credential stuffing from {STUFFING_IP}",
            cc=f"{self.admins[0]}, {self.admins[2]}",
            bcc=f"soc@{self.domain}",
        )

    # ---- random authentication activity ---------------------------------------------------------------------------

    def fill_auth(self, target: int) -> None:
        rng = self.rng
        auth = ("events", "sessions", "grants")
        while target - self.count(*auth) >= 40:
            person = self.person()
            when = self.pick_time(self.busy_cum)
            roll = rng.random()
            if roll < 0.012 and person.provider == "local":
                for attempt in range(1, 6):
                    self.event(
                        EventType.LOGIN_FAILED,
                        person,
                        when + dt.timedelta(seconds=30 * attempt),
                        app="auth ui",
                        reason="invalid_password",
                        attempt=attempt,
                    )
                locked = when + dt.timedelta(seconds=181)
                self.event(
                    EventType.ACCOUNT_LOCKED,
                    person,
                    locked,
                    app="auth ui",
                    reason="too_many_failed_attempts",
                    failed_attempts=5,
                )
                if self.count("notifications") < self.notifications_target:
                    self.mail(Category.ALERT, person.email, locked, subject="Your account was locked")
                continue
            if roll < 0.03 and self.count("notifications") < self.notifications_target:
                self.password_reset(person, when)
                when += dt.timedelta(minutes=rng.randint(16, 40))
                if when >= self.now:
                    continue
            failures = 0 if rng.random() > 0.08 else rng.randint(1, 2)
            mfa_failures = 0 if rng.random() > 0.05 else 1
            self.login(person, when, failures=failures, mfa_failures=mfa_failures)
        while self.count(*auth) < target:
            # Noise that needs no session: mistyped addresses and expired links.
            person = self.person()
            when = self.pick_time(self.busy_cum)
            local_part, _, domain = person.email.partition("@")
            typo = rng.choice(
                [
                    f"{local_part[:-1]}@{domain}",
                    f"{local_part}{local_part[-1]}@{domain}",
                    f"{local_part}@{domain.replace('.', '', 1)}",
                ]
            )
            self.event(
                EventType.LOGIN_FAILED,
                None,
                when,
                email=typo,
                app=rng.choice(person.apps),
                provider="local",
                ip=rng.choice(person.ips),
                agent=rng.choice(person.agents),
                reason="unknown_user",
                country=person.country,
            )

    # ---- audit ---------------------------------------------------------------------------------------------------

    def audit(
        self,
        action: str,
        target: str,
        when: dt.datetime,
        old: Any,
        new: Any,
        *,
        actor: str | None = None,
        subject: str = "",
        client: str = "admin console",
        comments: str = "",
    ) -> None:
        record = AuditLog(
            tenant_id=self.tenant.pk,
            action=action,
            target=target,
            actor=actor or self.rng.choice(self.admins),
            subject=subject,
            client_actor=client,
            timestamp=when,
            old_entity=old,
            new_entity=new,
            comments=comments,
        )
        record.compute_derived()  # bulk_create skips save(), where the diff is usually computed
        self.rows["audit"].append(record)

    def build_resources(self) -> None:
        """The administered objects of the tenant, in their state at the start of the demo window."""
        d = self.domain
        self.resources: dict[str, list[_Resource]] = {}

        def add(rtype: str, name: str, state: dict[str, Any]) -> None:
            self.resources.setdefault(rtype, []).append(_Resource(rtype, name, state))

        for name, issuer in (
            ("Azure AD", "https://login.microsoftonline.com/3f1c2a9e/v2.0"),
            ("Okta", "https://example.okta.com"),
        ):
            add(
                "IdentityProvider",
                name,
                {
                    "id": f"idp_{name.lower().replace(' ', '_')}",
                    "name": name,
                    "type": "oidc",
                    "enabled": True,
                    "issuer": issuer,
                    "client_id": self.uid(),
                    "client_secret": MASKED,
                    "scopes": ["openid", "email", "profile"],
                    "config": {"timeout": 30, "jit_provisioning": True, "claims_mapping": {"email": "email"}},
                },
            )
        for app in APPS:
            add(
                "Application",
                app.name,
                {
                    "id": f"app_{app.slug}",
                    "name": app.name,
                    "protocol": app.protocol.lower(),
                    "enabled": True,
                    "client_id": app.slug,
                    "client_secret": MASKED if app.protocol == "OIDC" else None,
                    "redirect_uris": [f"https://{app.slug}.{d}/oauth/callback"],
                    "scopes": list(app.scopes),
                    "token_lifetime": {"access_seconds": 3600, "refresh_days": app.grant_days},
                    "pkce_required": app.protocol == "OIDC",
                },
            )
        for name, roles in (
            ("Engineering", ["developer"]),
            ("Finance", ["billing viewer"]),
            ("Support", ["helpdesk"]),
            ("Admins", ["app admin"]),
            ("Contractors", ["developer"]),
        ):
            add(
                "Group",
                name,
                {
                    "id": f"grp_{name.lower()}",
                    "name": name,
                    "roles": roles,
                    "members": sorted(self.rng.sample([p.email for p in self.people], 3)),
                },
            )
        for name, perms in (
            ("developer", ["apps:read", "logs:read"]),
            ("billing viewer", ["billing:read"]),
            ("helpdesk", ["users:read", "users:reset_mfa"]),
            ("app admin", ["apps:write", "apps:read"]),
        ):
            add("Role", name, {"id": f"role_{name.replace(' ', '_')}", "name": name, "permissions": perms})
        for name in ("apps:read", "apps:write", "billing:read", "billing:write", "users:read", "users:reset_mfa"):
            add(
                "Permission",
                name,
                {
                    "id": f"perm_{name.replace(':', '_')}",
                    "name": name,
                    "resource": name.split(":")[0],
                    "actions": [name.split(":")[1]],
                },
            )
        for name, subject in (
            ("password_reset_email", "Password reset"),
            ("invitation_email", "You're invited"),
            ("login_page", None),
            ("totp_reset_email", "TOTP reset"),
        ):
            state: dict[str, Any] = {
                "id": f"tpl_{name}",
                "name": name,
                "locale": "en",
                "version": 1,
                "html": f"<h1>{subject or 'Sign in'}</h1><p>{{{{ body }}}}</p>",
            }
            if subject:
                state["subject"] = subject
            add("Template", name, state)
        add(
            "TenantSettings",
            self.tenant.name,
            {
                "session_lifetime_minutes": 720,
                "password_policy": {"min_length": 12, "require_symbols": True, "max_age_days": 180},
                "mfa": {"required": True, "methods": ["totp", "webauthn", "sms"]},
                "lockout": {"threshold": 5, "duration_minutes": 15},
            },
        )
        for name in ("SMTP password", "SCIM bearer token", "webhook signing key"):
            add(
                "Secret",
                name,
                {
                    "id": f"sec_{name.split()[0].lower()}",
                    "name": name,
                    "value": MASKED,
                    "version": 1,
                    "rotated_at": self.ago(days=90).date().isoformat(),
                },
            )
        for name, usage in (("SAML signing certificate", "saml-signing"), (f"TLS certificate login.{d}", "tls")):
            add("Certificate", name, self.certificate(name, usage, self.ago(days=300)))
        for person in self.people[:40]:
            add("User", person.email, self.user_state(person))

    def certificate(self, name: str, usage: str, issued: dt.datetime) -> dict[str, Any]:
        fingerprint = ":".join(f"{self.rng.randint(0, 255):02X}" for _ in range(32))
        return {
            "id": f"cert_{usage}",
            "name": name,
            "usage": usage,
            "subject": f"CN=login.{self.domain}",
            "fingerprint_sha256": fingerprint,
            "not_before": issued.date().isoformat(),
            "not_after": (issued + dt.timedelta(days=397)).date().isoformat(),
        }

    def user_state(self, person: _Person) -> dict[str, Any]:
        return {
            "id": person.user_id,
            "email": person.email,
            "name": person.name,
            "status": "active",
            "enabled": True,
            "provider": person.provider,
            "groups": ["Engineering"],
            "roles": [],
            "mfa_enrolled": person.mfa is not None,
        }

    def scripted_audit(self) -> None:
        """The changes the guide asks about: the Google IdP last week, "test role", deletes yesterday."""
        d = self.domain
        google: dict[str, Any] = {
            "id": "idp_google",
            "name": "Google",
            "type": "oidc",
            "enabled": True,
            "issuer": "https://accounts.google.com",
            "client_id": "742913-demo.apps.googleusercontent.com",
            "scopes": ["openid", "email", "profile"],
            "config": {
                "timeout": 30,
                "prompt": "select_account",
                "hosted_domain": d,
                "claims_mapping": {"email": "email", "name": "name", "picture": "picture"},
            },
            "allowed_domains": [d],
        }
        self.audit(
            "create IdentityProvider",
            "Google",
            self.ago(days=58, hours=3),
            None,
            google,
            actor=self.admins[0],
            comments="Google sign-in for all staff",
        )
        # Last calendar month, whatever today is: a change to the Okta provider on the 20th (or the 1st).
        first_of_month = self.now.astimezone(self.tz).date().replace(day=1)
        last_month = (first_of_month - dt.timedelta(days=1)).replace(day=20)
        okta = next(r for r in self.resources["IdentityProvider"] if r.name == "Okta")
        self.update(
            okta,
            self.day_at(last_month, 11, 5),
            self.admins[1],
            "Raise Okta timeout after IdP incident",
            config={**okta.state["config"], "timeout": 45},
        )
        # Last week (calendar week starting Monday) and the last few days: the Google provider.
        today = self.now.astimezone(self.tz).date()
        monday = today - dt.timedelta(days=today.weekday() + 7)
        renamed = {
            **google,
            "name": "Google Workspace",
            "scopes": ["openid", "email"],
            "client_secret": MASKED,
            "config": {**google["config"], "timeout": 60},
        }
        self.audit(
            "update IdentityProvider",
            "Google",
            self.day_at(monday + dt.timedelta(days=1), 10, 14),
            google,
            renamed,
            actor=self.admins[0],
            comments="SEC-1423: rename, drop profile scope, store client secret",
        )
        prompt = {
            **renamed,
            "config": {**renamed["config"], "prompt": "consent", "claims_mapping": {"email": "email", "name": "name"}},
        }
        self.audit(
            "update IdentityProvider",
            "Google Workspace",
            self.day_at(monday + dt.timedelta(days=3), 16, 40),
            renamed,
            prompt,
            actor=self.admins[1],
            comments="Force consent screen",
        )
        rotated = {
            **prompt,
            "client_secret": MASKED,
            "client_secret_version": 2,
            "client_secret_rotated_at": self.local(3, 10, 2).isoformat(),
        }
        self.audit(
            "update IdentityProvider",
            "Google Workspace",
            self.local(3, 10, 2),
            prompt,
            rotated,
            actor=self.admins[2],
            client="terraform",
            comments="Quarterly client secret rotation",
        )
        disabled = {**rotated, "enabled": False}
        self.audit(
            "disable IdentityProvider",
            "Google Workspace",
            self.local(1, 14, 20),
            rotated,
            disabled,
            actor=self.admins[1],
            comments="INC-2207: sign-in loop reported by support",
        )
        self.audit(
            "enable IdentityProvider",
            "Google Workspace",
            self.local(1, 14, 31),
            disabled,
            rotated,
            actor=self.admins[1],
            comments="INC-2207: resolved, redirect URI fixed",
        )
        # "test role": created, changed twice, deleted yesterday.
        role: dict[str, Any] = {
            "id": "role_test_role",
            "name": "test role",
            "description": "Trying out permissions",
            "permissions": ["apps:read"],
        }
        self.audit("create Role", "test role", self.local(12, 15, 30), None, role, actor=self.admins[3])
        role2 = {**role, "permissions": ["apps:read", "apps:write"]}
        self.audit("update Role", "test role", self.local(9, 11, 2), role, role2, actor=self.admins[3])
        role3 = {**role2, "description": "Temporary: remove after the pilot", "permissions": ["apps:read"]}
        self.audit(
            "update Role", "test role", self.local(6, 9, 45), role2, role3, actor=self.admins[0], subject="apps:write"
        )
        self.audit(
            "delete Role",
            "test role",
            self.local(1, 10, 12),
            role3,
            None,
            actor=self.admins[0],
            comments="Pilot finished",
        )
        # More deletes yesterday.
        leaver = self.resources["User"][-1]
        leaver.alive = False
        self.audit(
            "delete User",
            leaver.name,
            self.local(1, 17, 3),
            leaver.state,
            None,
            actor=self.admins[4],
            comments="Leaver: HR ticket HR-5521",
        )
        contractors = next(r for r in self.resources["Group"] if r.name == "Contractors")
        contractors.alive = False
        self.audit(
            "delete Group",
            "Contractors",
            self.local(1, 11, 48),
            contractors.state,
            None,
            actor=self.admins[0],
            comments="Contractor programme ended",
        )
        # At least one ordinary update of every other resource type, whatever the row budget.
        for rtype, resources in self.resources.items():
            if rtype != "IdentityProvider":
                resource = self.rng.choice([r for r in resources if r.alive])
                new_state, subject = self.mutate(resource)
                old_state, resource.state = resource.state, new_state
                self.audit(
                    f"update {rtype}",
                    resource.name,
                    self.pick_time(self.busy_cum),
                    old_state,
                    new_state,
                    subject=subject,
                )
        # The guide user's account, administered.
        user_state = self.user_state(self.guide)
        self.audit(
            "create User",
            GUIDE_EMAIL,
            self.ago(days=27),
            None,
            user_state,
            actor=self.admins[4],
            client="scim connector",
        )
        mfa_reset = {**user_state, "mfa_enrolled": False}
        self.audit(
            "update User",
            GUIDE_EMAIL,
            self.local(1, 9, 4),
            user_state,
            mfa_reset,
            actor=self.admins[4],
            comments="TOTP reset requested by phone, identity verified",
        )

    def day_at(self, day: dt.date, hour: int, minute: int) -> dt.datetime:
        moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.tz).astimezone(dt.UTC)
        return min(moment, self.now - dt.timedelta(minutes=2))

    def update(self, resource: _Resource, when: dt.datetime, actor: str, comments: str = "", **changes: Any) -> None:
        old = resource.state
        resource.state = {**old, **changes}
        self.audit(f"update {resource.rtype}", resource.name, when, old, resource.state, actor=actor, comments=comments)

    def fill_audit(self, target: int) -> None:
        rng = self.rng
        needed = target - self.count("audit")
        if needed <= 0:
            return
        times = sorted(self.pick_time(self.busy_cum) for _ in range(needed))
        weights = {
            "IdentityProvider": 3,
            "Application": 14,
            "User": 34,
            "Group": 14,
            "Role": 6,
            "Permission": 4,
            "Template": 6,
            "TenantSettings": 4,
            "Secret": 6,
            "Certificate": 3,
        }
        rtypes, rweights = list(weights), list(weights.values())
        clients = ["admin console"] * 6 + ["management api", "terraform", "scim connector"]
        comments = [
            "",
            "",
            "",
            "",
            "Requested in ticket IT-{n}",
            "Change approved by CAB-{n}",
            "Onboarding",
            "Security review follow-up",
            "Quarterly access review",
        ]
        for when in times:
            rtype = rng.choices(rtypes, weights=rweights)[0]
            live = [r for r in self.resources.get(rtype, []) if r.alive]
            verb = rng.choices(["update", "create", "delete", "enable", "disable"], weights=[60, 16, 6, 9, 9])[0]
            if rtype not in {"IdentityProvider", "Application", "User"} and verb in {"enable", "disable"}:
                verb = "update"
            if rtype == "TenantSettings":
                verb = "update"
            if not live or (verb == "delete" and len(live) < 3):
                verb = "create"
            comment = rng.choice(comments).format(n=rng.randint(1000, 9999))
            client = rng.choice(clients) if rtype != "User" else rng.choice(clients + ["scim connector"] * 3)
            actor = f"scim@{self.domain}" if client == "scim connector" else rng.choice(self.admins)
            if verb == "create":
                resource = self.new_resource(rtype)
                self.audit(
                    f"create {rtype}",
                    resource.name,
                    when,
                    None,
                    resource.state,
                    actor=actor,
                    client=client,
                    comments=comment,
                )
                continue
            resource = rng.choice(live)
            old = resource.state
            subject = ""
            if verb == "delete":
                resource.alive = False
                new: dict[str, Any] | None = None
            elif verb in {"enable", "disable"}:
                new = {**old, "enabled": verb == "enable"}
                if rtype == "User":
                    new["status"] = "active" if verb == "enable" else "disabled"
            else:
                new, subject = self.mutate(resource)
            if new is not None:
                resource.state = new
            self.audit(
                f"{verb} {rtype}",
                resource.name,
                when,
                old,
                new,
                actor=actor,
                client=client,
                subject=subject,
                comments=comment,
            )

    def new_resource(self, rtype: str) -> _Resource:
        rng = self.rng
        number = len(self.resources.get(rtype, [])) + 1
        if rtype == "User":
            person = rng.choice(self.people)
            resource = _Resource(rtype, person.email, self.user_state(person))
        elif rtype == "Group":
            name = rng.choice(["Marketing", "Sales", "Legal", "Data", "Security", "Interns"]) + f" {number}"
            resource = _Resource(rtype, name, {"id": f"grp_{number}", "name": name, "roles": [], "members": []})
        elif rtype == "Role":
            name = rng.choice(["auditor", "reporting", "support lead", "release manager"]) + f" {number}"
            resource = _Resource(rtype, name, {"id": f"role_{number}", "name": name, "permissions": ["apps:read"]})
        elif rtype == "Permission":
            name = f"{rng.choice(['reports', 'webhooks', 'groups', 'audit'])}:{rng.choice(['read', 'write'])}"
            resource = _Resource(
                rtype,
                name,
                {"id": f"perm_{number}", "name": name, "resource": name.split(":")[0], "actions": [name.split(":")[1]]},
            )
        elif rtype == "Application":
            name = f"{rng.choice(['analytics dashboard', 'wiki', 'ci pipeline', 'crm'])} {number}"
            slug = name.replace(" ", "-")
            resource = _Resource(
                rtype,
                name,
                {
                    "id": f"app_{slug}",
                    "name": name,
                    "protocol": "oidc",
                    "enabled": True,
                    "client_id": slug,
                    "client_secret": MASKED,
                    "redirect_uris": [f"https://{slug}.{self.domain}/oauth/callback"],
                    "scopes": ["openid", "email"],
                    "token_lifetime": {"access_seconds": 3600, "refresh_days": 30},
                    "pkce_required": True,
                },
            )
        elif rtype == "IdentityProvider":
            name = f"Partner SAML IdP {number}"
            resource = _Resource(
                rtype,
                name,
                {
                    "id": f"idp_partner_{number}",
                    "name": name,
                    "type": "saml",
                    "enabled": False,
                    "metadata_url": f"https://idp{number}.example.net/md",
                    "config": {"timeout": 30, "sign_requests": True},
                },
            )
        elif rtype == "Template":
            name = f"{rng.choice(['welcome', 'access_request', 'alert'])}_email_{number}"
            resource = _Resource(
                rtype,
                name,
                {
                    "id": f"tpl_{number}",
                    "name": name,
                    "locale": "en",
                    "version": 1,
                    "subject": name.replace("_", " ").title(),
                    "html": "<p>Hello</p>",
                },
            )
        elif rtype == "Secret":
            name = f"{rng.choice(['API key', 'LDAP bind password', 'S3 access key'])} {number}"
            resource = _Resource(
                rtype, name, {"id": f"sec_{number}", "name": name, "value": MASKED, "version": 1, "rotated_at": None}
            )
        else:  # Certificate (TenantSettings is never created)
            name = f"SAML encryption certificate {number}"
            resource = _Resource(rtype, name, self.certificate(name, "saml-encryption", self.ago(days=2)))
        self.resources.setdefault(rtype, []).append(resource)
        return resource

    def mutate(self, resource: _Resource) -> tuple[dict[str, Any], str]:
        """The next state of ``resource`` for an update, and the subject (secondary entity) of the change."""
        rng = self.rng
        state = dict(resource.state)
        rtype = resource.rtype
        if rtype == "User":
            choice = rng.randrange(4)
            if choice == 0:
                group = rng.choice(["Engineering", "Finance", "Support", "Admins"])
                state["groups"] = sorted({*state.get("groups", []), group})
                return state, group
            if choice == 1:
                role = rng.choice(["developer", "billing viewer", "helpdesk", "app admin"])
                state["roles"] = sorted({*state.get("roles", []), role})
                return state, role
            if choice == 2:
                state["mfa_enrolled"] = not state.get("mfa_enrolled", False)
                return state, ""
            state["department"] = rng.choice(["Engineering", "Finance", "Sales", "Support", "Legal"])
            state["phone"] = f"+1 555 01{rng.randint(10, 99)}"
            return state, ""
        if rtype == "Group":
            member = rng.choice(self.people).email
            members = list(state.get("members", []))
            if member in members:
                members.remove(member)
            else:
                members.append(member)
            state["members"] = sorted(members)
            return state, member
        if rtype == "Role":
            permission = rng.choice(["apps:read", "apps:write", "billing:read", "users:read", "logs:read"])
            permissions = set(state.get("permissions", []))
            permissions.symmetric_difference_update({permission})
            state["permissions"] = sorted(permissions)
            return state, permission
        if rtype == "Application":
            choice = rng.randrange(3)
            if choice == 0:
                lifetime = dict(state.get("token_lifetime", {}))
                lifetime["access_seconds"] = rng.choice([900, 1800, 3600, 7200])
                state["token_lifetime"] = lifetime
            elif choice == 1:
                uris = list(state.get("redirect_uris", []))
                uris.append(f"https://{resource.name.replace(' ', '-')}-{rng.randint(2, 9)}.{self.domain}/callback")
                state["redirect_uris"] = uris
            else:
                state["client_secret"] = MASKED
                state["client_secret_rotated_at"] = self.now.date().isoformat()
            return state, ""
        if rtype == "IdentityProvider":
            config = dict(state.get("config", {}))
            config["timeout"] = rng.choice([15, 30, 45, 60, 90])
            state["config"] = config
            return state, ""
        if rtype == "Permission":
            actions = list(state.get("actions", []))
            state["actions"] = sorted({*actions, rng.choice(["read", "write", "delete"])})
            return state, ""
        if rtype == "Template":
            state["version"] = int(state.get("version", 1)) + 1
            state["html"] = f"<h1>{state.get('subject', 'Sign in')}</h1><p>Revision {state['version']}</p>"
            return state, ""
        if rtype == "TenantSettings":
            choice = rng.randrange(3)
            if choice == 0:
                state["session_lifetime_minutes"] = rng.choice([240, 480, 720, 1440])
            elif choice == 1:
                policy = dict(state["password_policy"])
                policy["min_length"] = rng.choice([10, 12, 14, 16])
                state["password_policy"] = policy
            else:
                lockout = dict(state["lockout"])
                lockout["threshold"] = rng.choice([3, 5, 10])
                state["lockout"] = lockout
            return state, ""
        if rtype == "Secret":
            state["version"] = int(state.get("version", 1)) + 1
            state["rotated_at"] = self.now.date().isoformat()
            return state, ""
        # Certificate: renewed.
        renewed = self.certificate(state["name"], state["usage"], self.ago(days=rng.randint(0, 20)))
        return renewed, ""

    # ---- jobs ----------------------------------------------------------------------------------------------------

    def job(
        self,
        name: str,
        jtype: str,
        start: dt.datetime,
        *,
        status: str = JobStatus.SUCCESS,
        duration: float = 10,
        failure: str | None = None,
        message: str = "",
        trigger: str = "schedule",
        **details: Any,
    ) -> None:
        rng = self.rng
        stacktrace = ""
        if status == JobStatus.FAILED:
            failure = failure or rng.choice(FAILURES_BY_TYPE[jtype])
            message, stacktrace = STACKTRACES[failure]
            stacktrace = stacktrace.replace("{month}", start.strftime("%Y-%m"))
        elif not message:
            message = self.job_message(jtype, name)
        end = min(start + dt.timedelta(seconds=duration), self.now)
        info = {
            "duration_ms": int((end - start).total_seconds() * 1000),
            "worker": f"worker-{rng.randint(1, 4)}",
            "queue": "default" if jtype != JobType.EMAIL else "mail",
            "attempt": 1,
            "triggered_by": trigger,
        }
        if status in {JobStatus.SUCCESS, JobStatus.FAILED}:
            info["progress"] = 100 if status == JobStatus.SUCCESS else rng.randint(5, 95)
        info.update(details)
        self.rows["jobs"].append(
            JobLog(
                tenant_id=self.tenant.pk,
                job_id=self.uid(),
                job_name=name,
                job_type=jtype,
                message=message,
                latest_status=status,
                created_at=start,
                updated_at=end,
                stacktrace=stacktrace,
                details=info,
            )
        )

    def job_message(self, jtype: str, name: str) -> str:
        n = self.rng.randint(0, 2500)
        messages: dict[str, str] = {
            JobType.TRIM: f"Trimmed {n:,} records past the retention period",
            JobType.EMAIL: f"Sent {n % 300 + 1:,} e-mails, 0 failed",
            JobType.IMPORT: f"Imported {n:,} rows: {n - n // 20:,} created, {n // 20:,} updated",
            JobType.EXPORT: f"Exported {n * 40:,} rows to {name.split('(')[-1].rstrip(')') or 'json'}",
            JobType.ARCHIVE: f"Archived {n * 10:,} audit records and trimmed them",
            JobType.SYNC: f"Synchronised {n:,} users and {n // 30:,} groups ({n // 50:,} changes)",
            JobType.CLEANUP: f"Marked {n // 10:,} sessions and {n // 25:,} grants as expired",
        }
        return messages[jtype]

    def scripted_jobs(self) -> None:
        """The nightly audit log trim (last night's run failed), one failure per type, a stuck sync, live ones."""
        local_now = self.now.astimezone(self.tz)
        latest_night = 0 if local_now.time() >= dt.time(2, 5) else 1  # tonight's 02:00 run is over by 02:05
        for days_ago in range(latest_night, latest_night + DAYS):
            start = self.local(days_ago, 2, 0, self.rng.randint(0, 40))
            failed = days_ago in {latest_night, latest_night + 11}
            self.job(
                "audit log trim",
                JobType.TRIM,
                start,
                duration=self.rng.uniform(20, 90),
                status=JobStatus.FAILED if failed else JobStatus.SUCCESS,
                failure="statement_timeout",
                message=f"Trimmed {self.rng.randint(0, 400):,} audit records older than "
                f"{self.tenant.retention_days('audit')} days",
                kind="audit",
                retention_days=self.tenant.retention_days("audit"),
            )
        failures = {
            JobType.EMAIL: ("send password reset emails", "smtp_auth", self.local(1, 9, 30)),
            JobType.IMPORT: ("import users from HR CSV", "import_row", self.local(6, 7, 15)),
            JobType.EXPORT: ("export audit logs (json)", "disk_full", self.local(8, 13, 2)),
            JobType.ARCHIVE: ("audit log archive", "archive_permission", self.local(15, 3, 0)),
            JobType.SYNC: ("sync Okta groups", "sync_rate_limit", self.local(2, 12, 40)),
            JobType.CLEANUP: ("expired session cleanup", "db_connection", self.local(4, 4, 0)),
        }
        for jtype, (name, failure, start) in failures.items():
            self.job(name, jtype, start, status=JobStatus.FAILED, failure=failure, duration=self.rng.uniform(3, 200))
        for jtype in (JobType.EMAIL, JobType.IMPORT, JobType.EXPORT, JobType.ARCHIVE, JobType.SYNC, JobType.CLEANUP):
            name = next(entry[0] for entry in JOB_CATALOG if entry[1] == jtype)
            self.job(name, jtype, self.local(self.rng.randint(1, 6), self.rng.randint(6, 20)))
        # A directory sync that hung hours ago: its last heartbeat is long past.
        stuck = self.ago(hours=5, minutes=12)
        self.rows["jobs"].append(
            JobLog(
                tenant_id=self.tenant.pk,
                job_id=self.uid(),
                job_name="sync Azure AD directory",
                job_type=JobType.SYNC,
                message="Synchronising users: 18,200 of 42,000 (43%)",
                latest_status=JobStatus.RUNNING,
                created_at=stuck,
                updated_at=stuck + dt.timedelta(minutes=14),
                details={
                    "worker": "worker-3",
                    "queue": "default",
                    "attempt": 1,
                    "triggered_by": "schedule",
                    "progress": 43,
                    "last_heartbeat": (stuck + dt.timedelta(minutes=14)).isoformat(),
                },
            )
        )
        running = self.ago(seconds=40)
        self.rows["jobs"].append(
            JobLog(
                tenant_id=self.tenant.pk,
                job_id=self.uid(),
                job_name="expired session cleanup",
                job_type=JobType.CLEANUP,
                message="Scanning sessions past expires_at",
                latest_status=JobStatus.RUNNING,
                created_at=running,
                updated_at=running + dt.timedelta(seconds=30),
                details={
                    "worker": "worker-1",
                    "queue": "default",
                    "attempt": 1,
                    "triggered_by": "schedule",
                    "progress": 60,
                },
            )
        )
        for name, jtype, seconds, trigger in (
            ("export events (csv)", JobType.EXPORT, 25, self.admins[0]),
            ("send invitation emails", JobType.EMAIL, 12, "schedule"),
        ):
            queued = self.ago(seconds=seconds)
            self.rows["jobs"].append(
                JobLog(
                    tenant_id=self.tenant.pk,
                    job_id=self.uid(),
                    job_name=name,
                    job_type=jtype,
                    message="Queued",
                    latest_status=JobStatus.PENDING,
                    created_at=queued,
                    updated_at=queued,
                    details={"queue": "default", "attempt": 0, "triggered_by": trigger},
                )
            )

    def fill_jobs(self, target: int) -> None:
        rng = self.rng
        names = [(name, jtype, duration) for name, jtype, _, duration in JOB_CATALOG]
        weights = [weight for _, _, weight, _ in JOB_CATALOG]
        while self.count("jobs") < target:
            name, jtype, duration = rng.choices(names, weights=weights)[0]
            start = self.pick_time(self.flat_cum, margin_minutes=15)
            status = JobStatus.FAILED if rng.random() < 0.07 else JobStatus.SUCCESS
            trigger = self.admins[0] if jtype in {JobType.EXPORT, JobType.IMPORT} else "schedule"
            self.job(name, jtype, start, status=status, duration=duration * rng.uniform(0.5, 2.5), trigger=trigger)

    # ---- notifications -------------------------------------------------------------------------------------------

    def mail(
        self,
        category: str,
        recipient: str,
        when: dt.datetime,
        *,
        subject: str = "",
        status: str = NotificationStatus.SENT,
        cc: str = "",
        bcc: str = "",
    ) -> None:
        subject = subject or self.subject(category)
        person = self.by_email.get(recipient)
        name = person.name.split()[0] if person else "there"
        self.rows["notifications"].append(
            NotificationLog(
                tenant_id=self.tenant.pk,
                subject=subject,
                recipient=recipient,
                cc=cc,
                bcc=bcc,
                timestamp=when,
                status=status,
                category=category,
                body=self.body(category, subject, name),
            )
        )

    def subject(self, category: str) -> str:
        rng = self.rng
        tenant = self.tenant.name
        app = rng.choice(APPS).name
        options: dict[str, list[str]] = {
            Category.INVITATION: [
                f"You're invited to join {tenant}",
                f"You have been added to the {app} group",
                f"Invitation: access to {app}",
            ],
            Category.PASSWORD_RESET: ["Password reset", f"Reset your {tenant} password", "Password reset requested"],
            Category.MFA_ENROLLMENT: [
                "Set up two-factor authentication",
                "TOTP reset",
                "A new security key was added to your account",
            ],
            Category.ACCESS_REQUEST: [
                f"Access request: {app}",
                f"Approval needed: access to {app}",
                f"Your access request for {app} was approved",
            ],
            Category.ALERT: [
                "New sign-in to your account",
                "Your account was locked",
                "Your password was changed",
                "Suspicious sign-in attempt blocked",
            ],
            Category.SYSTEM: [
                "Scheduled maintenance this Saturday",
                f"Monthly security report for {tenant}",
                f"New SAML signing certificate for {app}",
            ],
            Category.WELCOME: [f"Welcome to {tenant}", "Your account is ready"],
        }
        return rng.choice(options[category])

    def body(self, category: str, subject: str, name: str) -> str:
        link = f"https://login.{self.domain}/{category.replace('_', '-')}/{self.hexid(20)}"
        lines: dict[str, str] = {
            Category.PASSWORD_RESET: "We received a request to reset your password. The link below is valid for "
            "30 minutes. If you did not ask for this, you can ignore this e-mail.",
            Category.MFA_ENROLLMENT: "Your two-factor authentication settings changed. Open the link to enrol your "
            "authenticator app again.",
            Category.INVITATION: "You have been invited. Accept the invitation to set up your account.",
            Category.ACCESS_REQUEST: "An access request needs your decision.",
            Category.ALERT: "We noticed activity on your account that you may want to review.",
            Category.SYSTEM: "This is an announcement from your administrators.",
            Category.WELCOME: "Your account is ready. Sign in to get started.",
        }
        return (
            f"Hi {name},\n\n{lines[category]}\n\n{link}\n\n"
            f"-- \n{self.tenant.name} identity team\nThis message was sent to you about: {subject}"
        )

    def scripted_notifications(self) -> None:
        """One of each category, a bounce, a pending welcome mail, and "TOTP reset" mails yesterday."""
        d = self.domain
        manager = self.admins[0]
        person = self.people[3]
        self.mail(Category.INVITATION, f"new.hire@{d}", self.local(8, 10, 0), cc=manager)
        self.mail(
            Category.INVITATION,
            f"former.contractor@{d}",
            self.local(5, 11, 30),
            status=NotificationStatus.BOUNCED,
            cc=manager,
        )
        self.mail(
            Category.ACCESS_REQUEST,
            manager,
            self.local(3, 14, 10),
            cc=f"it-approvals@{d}",
            subject=f"Access request: {person.name} requests billing portal",
        )
        self.mail(
            Category.SYSTEM,
            f"all-staff@{d}",
            self.local(6, 8, 0),
            bcc=", ".join(self.admins[:3]),
            subject="Scheduled maintenance this Saturday",
        )
        self.mail(Category.WELCOME, f"new.hire@{d}", self.ago(minutes=3), status=NotificationStatus.PENDING)
        self.mail(Category.MFA_ENROLLMENT, person.email, self.local(1, 13, 20), subject="TOTP reset")
        self.mail(Category.MFA_ENROLLMENT, f"old.mailbox@{d}", self.local(2, 16, 45), status=NotificationStatus.BOUNCED)
        self.mail(
            Category.ALERT,
            person.email,
            self.ago(hours=2, minutes=10),
            status=NotificationStatus.FAILED,
            subject="New sign-in to your account",
        )

    def fill_notifications(self, target: int) -> None:
        rng = self.rng
        categories = [
            Category.INVITATION,
            Category.PASSWORD_RESET,
            Category.MFA_ENROLLMENT,
            Category.ACCESS_REQUEST,
            Category.ALERT,
            Category.SYSTEM,
            Category.WELCOME,
        ]
        weights = [14, 22, 12, 10, 26, 4, 12]
        while self.count("notifications") < target:
            category = rng.choices(categories, weights=weights)[0]
            when = self.pick_time(self.busy_cum, margin_minutes=1)
            roll = rng.random()
            status = (
                NotificationStatus.FAILED
                if roll < 0.04
                else NotificationStatus.BOUNCED
                if roll < 0.075
                else NotificationStatus.SENT
            )
            if when > self.ago(minutes=20) and rng.random() < 0.5:
                status = NotificationStatus.PENDING
            recipient = rng.choice(self.people).email
            cc = bcc = ""
            if category == Category.ACCESS_REQUEST:
                recipient, cc = rng.choice(self.admins), f"it-approvals@{self.domain}"
            elif category == Category.INVITATION and rng.random() < 0.5:
                cc = rng.choice(self.admins)
            elif category == Category.SYSTEM:
                recipient, bcc = f"all-staff@{self.domain}", ", ".join(self.admins[:2])
            self.mail(category, recipient, when, status=status, cc=cc, bcc=bcc)


def _cumulative(weights: Iterable[float]) -> list[float]:
    total = 0.0
    out = []
    for weight in weights:
        total += weight
        out.append(total)
    return out
