"""The management commands of DESIGN section 4 and the demo data behind ``make demo``."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from audit.models import AuditLog, ResourceType
from authmon.models import ApiToken, Role, Tenant, User
from authmon.world import GUIDE_EMAIL, GUIDE_USER_ID, OFFICE_IP, STUFFING_IP
from console.demo import demo_data_load
from events.models import EventLog, EventType
from jobs.models import JobLog, JobStatus, JobType
from notifications.models import Category, NotificationLog, NotificationStatus
from sessions_grants.models import AccessStatus, Grant, Protocol, Session
from tests.conftest import PASSWORD

ROWS = 1200  # two tenants of 600: the smallest load that holds every scripted incident, and fast


def run(*args: str) -> tuple[list[str], str]:
    """Run a command; return its stdout lines and its stderr."""
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue().splitlines(), err.getvalue()


def audit_of(tenant: Tenant, action: str) -> AuditLog:
    return AuditLog.objects.filter(tenant=tenant, action=action).get()


# ---- create_tenant -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_tenant_prints_the_slug_last() -> None:
    lines, _ = run("create_tenant", "initech", "--name", "Initech", "--timezone", "Asia/Tokyo")
    assert lines[-1] == "initech"
    tenant = Tenant.objects.get(slug="initech")
    assert (tenant.name, tenant.timezone) == ("Initech", "Asia/Tokyo")
    record = audit_of(tenant, "create TenantSettings")
    assert record.actor.startswith("cli:") and record.new_entity == {
        "slug": "initech",
        "name": "Initech",
        "timezone": "Asia/Tokyo",
    }


@pytest.mark.django_db
def test_create_tenant_defaults_name_and_timezone() -> None:
    lines, _ = run("create_tenant", "acme-labs", "-v", "0")
    assert lines == ["acme-labs"]
    tenant = Tenant.objects.get(slug="acme-labs")
    assert (tenant.name, tenant.timezone) == ("Acme Labs", "UTC")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["initech", "--timezone", "Mars/Olympus_Mons"], "'Mars/Olympus_Mons' is not a known time zone"),
        (["acme"], "A tenant with slug 'acme' already exists."),
        (["not a slug!"], "slug: Enter a valid “slug”"),
    ],
)
def test_create_tenant_errors(tenant_a: Tenant, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run("create_tenant", *args)
    assert Tenant.objects.count() == 1


# ---- create_admin --------------------------------------------------------------------------------------------------


def test_create_admin_with_password(tenant_a: Tenant) -> None:
    lines, _ = run(
        "create_admin", "Ops@Example.COM", "--tenant", "acme", "--role", "tenant_admin", "--password", PASSWORD
    )
    assert lines[-1] == "ops@example.com"
    assert not any(line.startswith("Password:") for line in lines)
    user = authenticate(username="ops@example.com", password=PASSWORD)
    assert user is not None and user.tenant == tenant_a and user.role == Role.TENANT_ADMIN
    record = audit_of(tenant_a, "create User")
    assert record.target == "ops@example.com" and "password" not in str(record.new_entity)


def test_create_admin_generates_a_strong_password(tenant_a: Tenant) -> None:
    lines, _ = run("create_admin", "audit@example.com", "--tenant", "acme", "--role", "auditor")
    assert lines[-1] == "audit@example.com"
    assert lines[-2].startswith("Password: ")
    password = lines[-2].removeprefix("Password: ")
    assert len(password) >= 20
    assert authenticate(username="audit@example.com", password=password) is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["new@example.com", "--tenant", "nope", "--role", "auditor"], "No tenant with slug 'nope'"),
        (["new@example.com", "--tenant", "acme", "--role", "root"], "Unknown role 'root'. Choose one of: auditor"),
        (["auditor@acme.example", "--tenant", "acme", "--role", "auditor"], "already exists .*--update"),
        (["new@example.com", "--tenant", "acme", "--role", "auditor", "--password", "short"], "too short"),
        (["not-an-email", "--tenant", "acme", "--role", "auditor", "--password", PASSWORD], "email: Enter a valid"),
    ],
)
def test_create_admin_errors(auditor: User, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run("create_admin", *args)
    assert User.objects.count() == 1


def test_create_admin_update_changes_role_tenant_and_password(auditor: User, tenant_b: Tenant) -> None:
    new_password = "another-long-passphrase-42"
    args = ["--tenant", "globex", "--role", "super_admin", "--password", new_password, "--update"]
    lines, _ = run("create_admin", auditor.email, *args)
    assert lines[-1] == auditor.email
    user = authenticate(username=auditor.email, password=new_password)
    assert user is not None and user.role == Role.SUPER_ADMIN and user.tenant == tenant_b
    record = audit_of(tenant_b, "update User")
    assert record.diff["role"] == {"_old": "auditor", "_new": "super_admin"}


def test_create_admin_update_without_password_keeps_it(auditor: User) -> None:
    lines, _ = run("create_admin", auditor.email, "--tenant", "acme", "--role", "tenant_admin", "--update")
    assert not any(line.startswith("Password:") for line in lines)
    assert authenticate(username=auditor.email, password=PASSWORD) is not None


# ---- create_api_token ----------------------------------------------------------------------------------------------


def test_create_api_token_prints_the_raw_token_last(tenant_a: Tenant) -> None:
    lines, _ = run("create_api_token", "--tenant", "acme", "--scopes", "ingest, read", "--name", "idp ingest")
    raw = lines[-1]
    token = ApiToken.objects.authenticate(raw)
    assert token is not None and token.tenant == tenant_a
    assert token.scopes == ["ingest", "read"] and token.name == "idp ingest"
    assert raw not in str(audit_of(tenant_a, "create Secret").new_entity)


def test_create_api_token_single_scope(tenant_a: Tenant) -> None:
    lines, _ = run("create_api_token", "--tenant", "acme", "--scopes", "read", "-v", "0")
    assert len(lines) == 1
    token = ApiToken.objects.authenticate(lines[0])
    assert token is not None and token.scopes == ["read"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tenant", "nope", "--scopes", "read"], "No tenant with slug 'nope'"),
        (["--tenant", "acme", "--scopes", "read,admin"], "Unknown scope\\(s\\): admin"),
        (["--tenant", "acme", "--scopes", " , "], "No scope given"),
    ],
)
def test_create_api_token_errors(tenant_a: Tenant, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run("create_api_token", *args)
    assert not ApiToken.objects.exists()


# ---- load_demo_data ------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fast_hashing(settings: Any) -> None:
    """The demo users' passwords are hashed on every load; PBKDF2 would dominate these tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo(db: Any) -> tuple[list[str], str]:
    """The demo data loaded into the test database: (stdout lines, stderr)."""
    return run("load_demo_data", "--rows", str(ROWS))


def login_table(lines: list[str]) -> list[list[str]]:
    start = lines.index("Demo console logins:") + 1
    assert lines[start].split() == ["E-MAIL", "PASSWORD", "ROLE", "TENANT"]
    return [line.split() for line in lines[start + 1 :]]


def test_demo_loads_exactly_the_rows_asked_for_in_every_kind(demo: tuple[list[str], str]) -> None:
    lines, err = demo
    assert "[100%]" in err
    assert any(line.startswith(f"Loaded {ROWS:,} records") for line in lines)
    models = (AuditLog, EventLog, JobLog, NotificationLog, Session, Grant)
    tenants = Tenant.objects.filter(slug__in=["acme", "globex"])
    assert tenants.count() == 2
    for tenant in tenants:
        counts = {model.__name__: model.objects.filter(tenant=tenant).count() for model in models}
        assert all(counts.values()), counts
        assert sum(counts.values()) == ROWS // 2


def test_demo_covers_every_type_status_and_category(demo: tuple[list[str], str]) -> None:
    for tenant in Tenant.objects.all():
        events = EventLog.objects.filter(tenant=tenant)
        assert set(events.values_list("event_type", flat=True)) == set(EventType.values)
        jobs = JobLog.objects.filter(tenant=tenant)
        assert set(jobs.values_list("job_type", flat=True)) == set(JobType.values)
        assert set(jobs.values_list("latest_status", flat=True)) == set(JobStatus.values)
        for job_type in JobType.values:
            assert jobs.filter(job_type=job_type, latest_status=JobStatus.FAILED).exists(), job_type
        assert not jobs.filter(latest_status=JobStatus.FAILED, stacktrace="").exists()
        assert all(
            t.startswith("Traceback (most recent call last):") for t in jobs.values_list("stacktrace", flat=True) if t
        )
        mails = NotificationLog.objects.filter(tenant=tenant)
        assert set(mails.values_list("category", flat=True)) == set(Category.values)
        assert set(mails.values_list("status", flat=True)) == set(NotificationStatus.values)
        assert mails.exclude(cc="").exists() and mails.exclude(bcc="").exists()
        sessions = Session.objects.filter(tenant=tenant)
        assert set(sessions.values_list("protocol", flat=True)) == set(Protocol.values)
        assert set(sessions.values_list("status", flat=True)) == set(AccessStatus.values)
        assert set(Grant.objects.filter(tenant=tenant).values_list("status", flat=True)) == set(AccessStatus.values)
        actions = set(AuditLog.objects.filter(tenant=tenant).values_list("action", flat=True))
        assert {a.split()[0] for a in actions} == {"create", "update", "delete", "enable", "disable"}
        assert {a.split()[1] for a in actions} == set(ResourceType.values)


def test_demo_sessions_and_grants_belong_to_the_logins(demo: tuple[list[str], str]) -> None:
    now = timezone.now()
    for tenant in Tenant.objects.all():
        sessions = {s.session_id: s for s in Session.objects.filter(tenant=tenant)}
        grants = list(Grant.objects.filter(tenant=tenant))
        logins = Counter(
            (e.details["session_id"], e.email, e.event_type)
            for e in EventLog.objects.filter(tenant=tenant, event_type__in=[EventType.LOGIN, EventType.SESSION_CREATED])
        )
        by_session: dict[str, set[str]] = {}
        clients: dict[str, set[str]] = {}
        for grant in grants:
            session = sessions[grant.session_id]
            assert (grant.email, grant.user_id, grant.provider) == (
                session.email,
                session.user_id,
                session.details["provider"],
            )
            clients.setdefault(grant.session_id, set()).add(grant.client)
            assert session.protocol == Protocol.OIDC and grant.details["scopes"]
            assert (grant.status == AccessStatus.REVOKED) == (grant.revoked_at is not None)
            assert grant.expires_at is not None and grant.created_at < grant.expires_at
            assert (grant.status == AccessStatus.ACTIVE) == (grant.revoked_at is None and grant.expires_at > now)
            by_session.setdefault(grant.session_id, set()).add(grant.grant_id)
        for session_id, session in sessions.items():
            assert session.user_id.isdigit()
            assert logins[(session_id, session.email, EventType.LOGIN)] == 1
            assert logins[(session_id, session.email, EventType.SESSION_CREATED)] == 1
            assert set(session.details["grant_ids"]) == by_session.get(session_id, set())
            # One session can hold several grants (SSO into a second app); one of them is the session's own app.
            assert session.protocol == Protocol.SAML or session.client_id in clients[session_id]
            assert {"claims", "scopes", "parameters", "grant_ids"} <= set(session.details)
            assert (session.status == AccessStatus.REVOKED) == (session.revoked_at is not None)
            assert session.expires_at is not None and session.created_at < session.expires_at
            assert (session.status == AccessStatus.ACTIVE) == (session.revoked_at is None and session.expires_at > now)
        times = EventLog.objects.filter(tenant=tenant).values_list("created_on", flat=True)
        assert now - dt.timedelta(days=31) < min(times) and max(times) <= now


def test_demo_makes_the_guides_use_cases_demonstrable(demo: tuple[list[str], str]) -> None:
    now = timezone.now()
    tenant = Tenant.objects.get(slug="acme")
    events = EventLog.objects.filter(tenant=tenant)
    last_24h = now - dt.timedelta(hours=24)
    today = now.astimezone(tenant.tz).date()
    yesterday = (
        dt.datetime.combine(today - dt.timedelta(days=1), dt.time(), tzinfo=tenant.tz),
        dt.datetime.combine(today, dt.time(), tzinfo=tenant.tz),
    )
    # Event logs: failed logins from 192.168.1.1; why can't user@example.com log in; MFA events yesterday.
    assert events.filter(event_type=EventType.LOGIN_FAILED, ip_address=OFFICE_IP).count() >= 5
    failed = events.filter(email=GUIDE_EMAIL, event_type=EventType.LOGIN_FAILED, created_on__gte=last_24h)
    assert failed.count() >= 5
    assert {e.details["reason"] for e in failed} >= {"invalid_password", "account_locked"}
    assert events.filter(email=GUIDE_EMAIL, event_type=EventType.ACCOUNT_LOCKED, created_on__gte=last_24h).exists()
    assert events.filter(email=GUIDE_EMAIL, event_type=EventType.MFA_FAILED, created_on__range=yesterday).exists()
    assert events.filter(provider_name="google", event_type=EventType.LOGIN, email__contains="@example.com").exists()
    assert events.filter(client_name="auth ui").exists() and events.filter(client_name="auth ui beta").exists()
    # Brute force on one account, credential stuffing from one IP across many.
    per_email = Counter(events.filter(event_type=EventType.LOGIN_FAILED).values_list("email", flat=True))
    assert per_email.most_common(1)[0][1] >= 25
    stuffing = events.filter(ip_address=STUFFING_IP, event_type=EventType.LOGIN_FAILED)
    assert stuffing.values("email").distinct().count() >= 20
    # Notifications: the failed password reset e-mail, TOTP reset yesterday.
    mails = NotificationLog.objects.filter(tenant=tenant)
    assert mails.filter(recipient=GUIDE_EMAIL, status=NotificationStatus.FAILED, subject__icontains="password reset")
    assert mails.filter(subject__icontains="totp reset", timestamp__range=yesterday).exists()
    # Sessions of user 123 and grants of user@example.com, active ones among them.
    assert Session.objects.filter(tenant=tenant, user_id=GUIDE_USER_ID, status=AccessStatus.ACTIVE).exists()
    assert Grant.objects.filter(tenant=tenant, email=GUIDE_EMAIL, status=AccessStatus.ACTIVE).exists()
    # Jobs: the nightly audit log trim and its failure last night; a run stuck for hours.
    jobs = JobLog.objects.filter(tenant=tenant)
    assert jobs.filter(job_name="audit log trim").count() >= 28
    last_night = jobs.filter(job_name="audit log trim").latest("created_at")
    assert last_night.latest_status == JobStatus.FAILED and last_night.created_at > now - dt.timedelta(hours=25)
    assert jobs.filter(latest_status=JobStatus.RUNNING, created_at__lt=now - dt.timedelta(hours=1)).exists()
    assert jobs.filter(job_type__contains="email", latest_status=JobStatus.FAILED).exists()
    # Audit: the Google provider changed last week (renamed, secret shown as ***, nested timeout), "test role".
    google = AuditLog.objects.filter(tenant=tenant, action="update IdentityProvider", target__icontains="google")
    assert google.filter(timestamp__gte=now - dt.timedelta(days=14)).count() >= 3
    renamed = google.get(diff__has_key="name")
    assert renamed.diff["name"] == {"_old": "Google", "_new": "Google Workspace"}
    assert renamed.diff["client_secret__added"] == "***"
    assert renamed.diff["config"] == {"timeout": {"_old": 30, "_new": 60}}
    assert AuditLog.objects.filter(tenant=tenant, target="test role").count() >= 3
    assert AuditLog.objects.filter(tenant=tenant, action__startswith="delete", timestamp__range=yesterday).exists()
    assert AuditLog.objects.filter(tenant=tenant, actor__contains="example.com").exists()


def test_demo_logins_work(demo: tuple[list[str], str], client: Client) -> None:
    rows = login_table(demo[0])
    assert [(role, tenant) for _, _, role, tenant in rows] == [
        ("auditor", "acme"),
        ("tenant_admin", "acme"),
        ("super_admin", "acme"),
        ("auditor", "globex"),
        ("tenant_admin", "globex"),
    ]
    for email, password, role, tenant in rows:
        assert client.login(username=email, password=password), email
        user = User.objects.get(email=email)
        assert (user.role, user.tenant.slug) == (role, tenant)
        client.logout()


def test_demo_twice_keeps_the_data_unless_reset(demo: tuple[list[str], str], client: Client) -> None:
    first = sorted(Session.objects.values_list("session_id", flat=True))
    User.objects.filter(email="auditor@acme.example.com").update(password="!")  # someone changed it
    lines, _ = run("load_demo_data", "--rows", str(ROWS))
    assert "Tenant acme already has records: left as it is (use --reset to reload it)." in lines
    assert sorted(Session.objects.values_list("session_id", flat=True)) == first
    assert client.login(username="auditor@acme.example.com", password="demo-auditor-pass")
    run("load_demo_data", "--rows", str(ROWS), "--reset")
    total = sum(m.objects.count() for m in (AuditLog, EventLog, JobLog, NotificationLog, Session, Grant))
    assert total == ROWS + AuditLog.objects.filter(action="login Console").count()


def test_demo_is_reproducible_for_a_seed_and_now(db: Any) -> None:
    now = timezone.now().replace(microsecond=0)

    def snapshot() -> list[Any]:
        return [
            list(
                EventLog.objects.order_by("created_on", "id").values_list(
                    "event_type", "email", "created_on", "ip_address"
                )
            ),
            sorted(Grant.objects.values_list("grant_id", "session_id", "status")),
            sorted(AuditLog.objects.values_list("action", "target", "timestamp")),
        ]

    demo_data_load(rows=ROWS, seed=7, now=now)
    first = snapshot()
    demo_data_load(rows=ROWS, seed=7, now=now, reset=True)
    assert snapshot() == first
    demo_data_load(rows=ROWS, seed=8, now=now, reset=True)
    assert snapshot() != first


def test_demo_more_tenants(db: Any) -> None:
    lines, _ = run("load_demo_data", "--tenants", "3", "--rows", "1500", "-v", "0")
    assert set(Tenant.objects.values_list("slug", flat=True)) == {"acme", "globex", "initech"}
    assert EventLog.objects.filter(tenant__slug="initech").exists()
    assert [row[3] for row in login_table(lines)].count("initech") == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rows", "900"], "--rows must be at least 500 per tenant \\(1,000 for 2 tenants\\)"),
        (["--tenants", "0"], "--tenants must be at least 1"),
    ],
)
def test_demo_rejects_bad_arguments(db: Any, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run("load_demo_data", *args)
    assert not Tenant.objects.exists()
