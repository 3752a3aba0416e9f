"""factory_boy factories for tenants, console users and the six record kinds.

Every record factory makes a valid, realistic record "just now" in a tenant of its own (``tenant`` is a
SubFactory); pass ``tenant=`` to put it in yours. Traits give the interesting variants, e.g.
``EventLogFactory(failed=True)``, ``JobLogFactory(failed=True)``, ``SessionFactory(revoked=True)``. A grant comes
with the session it belongs to (``GrantFactory(session=my_session)`` to choose it), and is added to that session's
``details["grant_ids"]``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from audit.models import AuditLog
from authmon.models import Role, Tenant, User
from authmon.world import APP_BY_NAME, MASKED, USER_AGENTS
from authmon.world import PROVIDERS as WORLD_PROVIDERS
from events.models import EventLog, EventType
from jobs.demo import STACKTRACES
from jobs.models import JobLog, JobStatus, JobType
from notifications.models import Category, NotificationLog, NotificationStatus
from sessions_grants.models import AccessStatus, Grant, Protocol, Session
from tests.conftest import PASSWORD

APPLICATIONS = ("auth ui", "billing portal", "auth ui beta", "mobile app")
PROVIDERS = tuple(name for name, _weight in WORLD_PROVIDERS)  # google, azure ad, local, okta


def _uuid() -> str:
    return str(uuid.uuid4())


def _event_details(event: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"country": "DE", "city": "Berlin", "request_id": f"req_{uuid.uuid4().hex[:12]}"}
    kind = event.event_type
    if kind == EventType.LOGIN_FAILED:
        details["reason"] = "invalid_password"
    elif kind == EventType.ACCOUNT_LOCKED:
        details.update(reason="too_many_failed_attempts", failed_attempts=5)
    elif kind in {EventType.MFA_VERIFIED, EventType.MFA_FAILED}:
        details["mfa_method"] = "totp"
        if kind == EventType.MFA_FAILED:
            details["reason"] = "invalid_code"
    elif kind == EventType.PASSWORD_RESET:
        details.update(stage="requested", method="email_link")
    elif kind in {EventType.LOGIN, EventType.LOGOUT, EventType.SESSION_CREATED, EventType.TOKEN_REFRESHED}:
        details.update(session_id=_uuid(), protocol="OIDC")
    return details


class TenantFactory(DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    timezone = "Europe/Berlin"


class UserFactory(DjangoModelFactory):
    """A console user who can sign in with ``tests.conftest.PASSWORD``."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"console.user{n}@example.com")
    tenant = factory.SubFactory(TenantFactory)
    role = Role.AUDITOR
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)

    class Params:
        tenant_admin = factory.Trait(role=Role.TENANT_ADMIN)
        super_admin = factory.Trait(role=Role.SUPER_ADMIN)


class AuditLogFactory(DjangoModelFactory):
    """An administrator's change to an identity provider; ``diff`` is computed by the model on save."""

    class Meta:
        model = AuditLog
        skip_postgeneration_save = True  # audit records refuse a second save

    tenant = factory.SubFactory(TenantFactory)
    action = "update IdentityProvider"
    target = "Google"
    actor = factory.Sequence(lambda n: f"admin{n}@example.com")
    subject = ""
    client_actor = "admin console"
    timestamp = factory.LazyFunction(timezone.now)
    old_entity = factory.LazyFunction(
        lambda: {"name": "Google", "scopes": ["openid", "email", "profile"], "config": {"timeout": 30}}
    )
    new_entity = factory.LazyFunction(
        lambda: {
            "name": "Google Workspace",
            "scopes": ["openid", "email"],
            "client_secret": MASKED,
            "config": {"timeout": 60},
        }
    )
    comments = "SEC-1423: tighten scopes"

    class Params:
        created = factory.Trait(action="create IdentityProvider", old_entity=None)
        deleted = factory.Trait(action="delete IdentityProvider", new_entity=None)


class EventLogFactory(DjangoModelFactory):
    """A successful login; ``failed=True`` for a failed one, or pass any ``event_type``."""

    class Meta:
        model = EventLog

    tenant = factory.SubFactory(TenantFactory)
    event_type = EventType.LOGIN
    client_name = factory.Iterator(APPLICATIONS)
    provider_name = factory.Iterator(PROVIDERS)
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    username = factory.LazyAttribute(lambda o: o.email.split("@")[0])
    ip_address = factory.Sequence(lambda n: f"198.51.100.{n % 254 + 1}")
    user_agent = factory.Iterator(USER_AGENTS)
    created_on = factory.LazyFunction(timezone.now)
    details = factory.LazyAttribute(_event_details)

    class Params:
        failed = factory.Trait(event_type=EventType.LOGIN_FAILED)


class JobLogFactory(DjangoModelFactory):
    """A successful nightly trim run; traits ``failed`` (with a stack trace), ``running``, ``pending``."""

    class Meta:
        model = JobLog

    tenant = factory.SubFactory(TenantFactory)
    job_id = factory.LazyFunction(_uuid)
    job_name = "audit log trim"
    job_type = JobType.TRIM
    message = "Trimmed 120 audit records older than 2555 days"
    latest_status = JobStatus.SUCCESS
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyAttribute(lambda o: o.created_at + dt.timedelta(seconds=42))
    stacktrace = ""
    details = factory.LazyFunction(
        lambda: {"duration_ms": 42_000, "worker": "worker-1", "attempt": 1, "triggered_by": "schedule", "progress": 100}
    )

    class Params:
        failed = factory.Trait(
            latest_status=JobStatus.FAILED,
            message=STACKTRACES["statement_timeout"][0],
            stacktrace=STACKTRACES["statement_timeout"][1],
        )
        running = factory.Trait(
            latest_status=JobStatus.RUNNING,
            message="Trimming: 40%",
            updated_at=factory.LazyAttribute(lambda o: o.created_at),
        )
        pending = factory.Trait(
            latest_status=JobStatus.PENDING, message="Queued", updated_at=factory.LazyAttribute(lambda o: o.created_at)
        )


class NotificationLogFactory(DjangoModelFactory):
    """A delivered password-reset e-mail; traits ``failed``, ``bounced``, ``pending``."""

    class Meta:
        model = NotificationLog

    tenant = factory.SubFactory(TenantFactory)
    subject = "Password reset"
    recipient = factory.Sequence(lambda n: f"person{n}@example.com")
    cc = ""
    bcc = ""
    timestamp = factory.LazyFunction(timezone.now)
    status = NotificationStatus.SENT
    category = Category.PASSWORD_RESET
    body = factory.LazyAttribute(
        lambda o: (
            "Hi,\n\nWe received a request to reset your password. The link below is valid for 30 minutes.\n\n"
            f"https://login.example.com/password-reset/{uuid.uuid4().hex[:20]}\n\n-- \nIdentity team ({o.recipient})"
        )
    )

    class Params:
        failed = factory.Trait(status=NotificationStatus.FAILED)
        bounced = factory.Trait(status=NotificationStatus.BOUNCED)
        pending = factory.Trait(status=NotificationStatus.PENDING)


def _session_details(session: Any) -> dict[str, Any]:
    app = APP_BY_NAME.get(session.client_id)
    scopes = list(app.scopes) if app and session.protocol == Protocol.OIDC else []
    if session.protocol == Protocol.SAML:
        claims: dict[str, Any] = {"NameID": session.email, "SessionIndex": f"_{uuid.uuid4().hex}"}
        parameters: dict[str, Any] = {"binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"}
    else:
        claims = {"sub": session.user_id, "email": session.email, "amr": ["pwd", "otp"]}
        parameters = {"response_type": "code", "scope": " ".join(scopes), "code_challenge_method": "S256"}
    return {"claims": claims, "scopes": scopes, "parameters": parameters, "grant_ids": []}


class SessionFactory(DjangoModelFactory):
    """An active OIDC session of user 1000+n; traits ``saml``, ``expired``, ``revoked``."""

    class Meta:
        model = Session

    tenant = factory.SubFactory(TenantFactory)
    session_id = factory.LazyFunction(_uuid)
    protocol = Protocol.OIDC
    client_id = "auth ui"
    user_id = factory.Sequence(lambda n: str(1000 + n))
    email = factory.LazyAttribute(lambda o: f"user{o.user_id}@example.com")
    created_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.created_at + dt.timedelta(hours=12))
    status = AccessStatus.ACTIVE
    details = factory.LazyAttribute(_session_details)

    class Params:
        saml = factory.Trait(protocol=Protocol.SAML, client_id="hr portal")
        expired = factory.Trait(
            status=AccessStatus.EXPIRED,
            created_at=factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=2)),
        )
        revoked = factory.Trait(status=AccessStatus.REVOKED, revoked_at=factory.LazyFunction(timezone.now))


class GrantFactory(DjangoModelFactory):
    """An active grant made in a session (created with it unless ``session=`` is given; ``session=None``: none)."""

    class Meta:
        model = Grant
        skip_postgeneration_save = True

    class Params:
        session = factory.Maybe(
            "expired",
            yes_declaration=factory.SubFactory(SessionFactory, tenant=factory.SelfAttribute("..tenant"), expired=True),
            no_declaration=factory.SubFactory(SessionFactory, tenant=factory.SelfAttribute("..tenant")),
        )
        expired = factory.Trait(
            status=AccessStatus.EXPIRED,
            expires_at=factory.LazyAttribute(lambda o: o.created_at + dt.timedelta(days=1)),
        )
        revoked = factory.Trait(status=AccessStatus.REVOKED, revoked_at=factory.LazyFunction(timezone.now))

    tenant = factory.SubFactory(TenantFactory)
    grant_id = factory.LazyFunction(lambda: f"gr_{uuid.uuid4().hex}")
    email = factory.LazyAttribute(lambda o: o.session.email if o.session else "person@example.com")
    user_id = factory.LazyAttribute(lambda o: o.session.user_id if o.session else "1000")
    provider = factory.Iterator(PROVIDERS)
    client = factory.LazyAttribute(lambda o: o.session.client_id if o.session else "auth ui")
    session_id = factory.LazyAttribute(lambda o: o.session.session_id if o.session else "")
    created_at = factory.LazyAttribute(lambda o: o.session.created_at if o.session else timezone.now())
    expires_at = factory.LazyAttribute(lambda o: o.created_at + dt.timedelta(days=30))
    status = AccessStatus.ACTIVE
    details = factory.LazyAttribute(
        lambda o: {
            "scopes": list(APP_BY_NAME[o.client].scopes) if o.client in APP_BY_NAME else ["openid", "email"],
            "grant_type": "authorization_code",
            "refresh_token": True,
        }
    )

    @factory.post_generation
    def link_session(grant: Grant, create: bool, extracted: Any, **kwargs: Any) -> None:
        """Record the grant in its session's ``details["grant_ids"]``, as the identity service does."""
        session = Session.objects.filter(tenant=grant.tenant, session_id=grant.session_id).first() if create else None
        if session is not None and grant.grant_id not in session.details.get("grant_ids", []):
            session.details = {**session.details, "grant_ids": [*session.details.get("grant_ids", []), grant.grant_id]}
            session.save(update_fields=["details"])
