"""Each question against a database fixture: exactly the rows it asks for.

The fixture makes misreadings visible: rows inside "last week" but not "in the last 7 days" and the reverse, rows
a second either side of every interval boundary, and near-miss values ("auth ui" / "auth ui beta", "10.0.0.4" /
"10.0.0.40", "audit log trim" / "audit log trim v2", "test role" / "test roles"). Rows are named by their
``external_id``. The tenant is in Europe/Berlin and now is Thursday 26 November 2026, 15:30 there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import models

import authmon.lookups  # noqa: F401  (registers text_icontains for JSON fields)
from audit.models import AuditLog
from authmon.models import Tenant
from events.models import EventLog
from jobs.models import JobLog
from notifications.models import NotificationLog
from sessions_grants.models import Grant, Session

from .conftest import BERLIN, NEW_YORK, NOW, ask
from .test_questions import GUIDE

pytestmark = pytest.mark.django_db


def at(*args: int, tz: ZoneInfo = BERLIN) -> datetime:
    return datetime(*args, tzinfo=tz).astimezone(UTC)  # type: ignore[misc]


@pytest.fixture
def tenant() -> Tenant:
    return Tenant.objects.create(slug="nlq", name="NLQ", timezone="Europe/Berlin")


def matching(model: type[models.Model], tenant: Tenant, kind: str, question: str, **kwargs: Any) -> set[str]:
    q = ask(kind, question, **kwargs).q
    rows = model.objects.filter(tenant=tenant).filter(q)  # type: ignore[attr-defined]
    return set(rows.values_list("external_id", flat=True))


# ---- events ---------------------------------------------------------------------------------------------

EVENT_ROWS: list[tuple[str, str, str, str, str, str | None, datetime, dict[str, Any]]] = [
    # name, event type, client, provider, email, ip, created on (Berlin), extra
    ("lw_only", "login", "auth ui", "google", "user@example.com", "10.0.0.4", at(2026, 11, 17, 10), {}),
    ("l7_only", "login", "auth ui", "google", "user@example.com", "10.0.0.40", at(2026, 11, 24, 10), {}),
    ("both", "login", "auth ui beta", "google", "other@example.com", "10.0.0.5", at(2026, 11, 21, 10), {}),
    ("edge_out", "login", "auth ui", "google", "user@example.com", None, at(2026, 11, 19, 15, 29, 59), {}),
    ("edge_in", "login", "auth ui", "google", "user@example.com", None, at(2026, 11, 19, 15, 30), {}),
    ("week_ago_late", "login", "auth ui", "local", "x@example.com", None, at(2026, 11, 19, 23, 59, 59), {}),
    ("week_ago_next", "login", "auth ui", "local", "x@example.com", None, at(2026, 11, 20), {}),
    ("week_ago_prev", "login", "auth ui", "local", "x@example.com", None, at(2026, 11, 18, 23, 59, 59), {}),
    ("beta_week_ago", "login", "auth ui beta", "google", "beta@example.com", None, at(2026, 11, 19, 12), {}),
    ("failed_ip", "login_failed", "auth ui", "google", "user@example.com", "192.168.1.1", at(2026, 11, 25, 10), {}),
    (
        "failed_ip_near",
        "login_failed",
        "auth ui",
        "google",
        "user@example.com",
        "192.168.1.10",
        at(2026, 11, 25, 11),
        {},
    ),
    ("login_ip", "login", "auth ui", "google", "user@example.com", "192.168.1.1", at(2026, 11, 25, 12), {}),
    ("google_corp", "login_failed", "billing portal", "google", "admin@corp.example", None, at(2026, 11, 23, 10), {}),
    ("mfa_y_start", "mfa_verified", "", "", "user@example.com", None, at(2026, 11, 25), {}),
    ("mfa_y_end", "mfa_failed", "", "", "USER@Example.com", None, at(2026, 11, 25, 23, 59, 59), {}),
    ("mfa_before", "mfa_failed", "", "", "user@example.com", None, at(2026, 11, 24, 23, 59, 59), {}),
    ("mfa_today", "mfa_verified", "", "", "user@example.com", None, at(2026, 11, 26), {}),
    ("mfa_other", "mfa_verified", "", "", "other@example.com", None, at(2026, 11, 25, 12), {}),
    ("logout_y", "logout", "", "", "user@example.com", None, at(2026, 11, 25, 12), {}),
    ("h24_out", "logout", "", "", "", None, at(2026, 11, 25, 15, 29, 59), {}),
    ("h24_in", "logout", "", "", "", None, at(2026, 11, 25, 15, 30), {}),
    ("azure", "login", "auth ui", "azure ad", "admin@corp.example", None, at(2026, 11, 22, 10), {}),
    ("gworkspace", "login", "auth ui", "google workspace", "user@example.com", None, at(2026, 11, 22, 11), {}),
    (
        "details",
        "token_refreshed",
        "mobile app",
        "local",
        "bob@example.org",
        "::1",
        at(2026, 11, 26, 9),
        {"details": {"error": "Timeout while refreshing", "city": "Zürich"}, "user_agent": "Mozilla/5.0 Firefox/120"},
    ),
    ("lockout", "account_locked", "", "", "eve@example.com", "10.0.0.4", at(2026, 11, 26, 8), {}),
    ("three_h", "token_refreshed", "", "", "", None, at(2026, 11, 26, 12, 59, 59), {}),
    ("three_h_out", "token_refreshed", "", "", "", None, at(2026, 11, 26, 13), {}),
    ("old", "login", "auth ui", "google", "user@example.com", None, at(2026, 10, 15, 10), {}),
    ("oct_end", "logout", "", "", "", None, at(2026, 10, 31, 23, 59, 59), {}),
    ("nov_start", "logout", "", "", "", None, at(2026, 11, 1), {}),
]

EVENT_QUESTIONS: list[tuple[str, set[str]]] = [
    (
        "the event type is login and the log was created in the last 7 days",
        {"l7_only", "both", "edge_in", "week_ago_late", "week_ago_next", "login_ip", "azure", "gworkspace"},
    ),
    ("client is auth ui and the log was created one week ago", {"edge_out", "edge_in", "week_ago_late"}),
    ("show failed logins from IP 192.168.1.1", {"failed_ip"}),
    ("mfa events for user@example.com yesterday", {"mfa_y_start", "mfa_y_end"}),
    (
        "login events where provider is google",
        {"lw_only", "l7_only", "both", "edge_out", "edge_in", "beta_week_ago", "login_ip", "old"},
    ),
    (
        "provider name is google and email contains @example.com",
        {
            "lw_only",
            "l7_only",
            "both",
            "edge_out",
            "edge_in",
            "beta_week_ago",
            "failed_ip",
            "failed_ip_near",
            "login_ip",
            "old",
        },
    ),
    (
        "event type is login and created on is from last week and email is user@example.com",
        {"lw_only", "edge_out", "edge_in", "gworkspace"},
    ),
    ("ip address is 10.0.0.4", {"lw_only", "lockout"}),
    ("from 10.0.0.40", {"l7_only"}),
    ("ip starts with 192.168.1.1", {"failed_ip", "failed_ip_near", "login_ip"}),
    ("ip is 192.168.1.1", {"failed_ip", "login_ip"}),
    ("client is auth ui beta", {"both", "beta_week_ago"}),
    ("client name contains beta", {"both", "beta_week_ago"}),
    ("client is 'AUTH UI' and provider is azure ad", {"azure"}),
    (
        "yesterday",
        {
            "failed_ip",
            "failed_ip_near",
            "login_ip",
            "mfa_y_start",
            "mfa_y_end",
            "mfa_other",
            "logout_y",
            "h24_out",
            "h24_in",
        },
    ),
    (
        "last week",
        {
            "lw_only",
            "both",
            "edge_out",
            "edge_in",
            "week_ago_late",
            "week_ago_next",
            "week_ago_prev",
            "beta_week_ago",
            "azure",
            "gworkspace",
        },
    ),
    ("in the last 24 hours", {"h24_in", "mfa_y_end", "mfa_today", "details", "lockout", "three_h", "three_h_out"}),
    ("last month", {"old", "oct_end"}),
    ("logins older than 30 days", {"old"}),
    ("details contains timeout", {"details"}),
    ("details contains 'ZÜRICH'", {"details"}),
    ("lockouts where details does not contain timeout", {"lockout"}),
    ("token refreshes where details does not contain timeout", {"three_h", "three_h_out"}),
    ("user agent like *firefox*", {"details"}),
    ("email like *@example.org", {"details"}),
    ("logouts and (email is user@example.com or email is eve@example.com)", {"logout_y"}),
    ("failed logins or lockouts today", {"failed_ip", "failed_ip_near", "google_corp", "lockout"}),
    ("(failed logins or lockouts) and today", {"lockout"}),
    ("mfa events", {"mfa_y_start", "mfa_y_end", "mfa_before", "mfa_today", "mfa_other"}),
    (
        "event type is one of (logout, account locked)",
        {"logout_y", "h24_out", "h24_in", "lockout", "oct_end", "nov_start"},
    ),
    ("between Nov 20 and Nov 21", {"both", "week_ago_next"}),
    ("before Nov 1", {"old", "oct_end"}),
    ("created on <= 2026-10-31", {"old", "oct_end"}),
    ("logouts after Oct 31", {"logout_y", "h24_out", "h24_in", "nov_start"}),
    ("logouts on 2026-11-01", {"nov_start"}),
    ("logouts on Oct 31", {"oct_end"}),
    ("two days ago", {"l7_only", "mfa_before"}),
    ("3 hours ago", {"three_h"}),
    (
        "not event type is login and yesterday",
        {"failed_ip", "failed_ip_near", "mfa_y_start", "mfa_y_end", "mfa_other", "logout_y", "h24_out", "h24_in"},
    ),
    ("10.0.0.4 or 10.0.0.40", {"lw_only", "lockout", "l7_only"}),
    ("lockouts where ip is not 10.0.0.40", {"lockout"}),
    ("ip is ::1", {"details"}),
    ("user user@example.com and logins last week", {"lw_only", "edge_out", "edge_in", "gworkspace"}),
    ("failed events", {"failed_ip", "failed_ip_near", "google_corp", "mfa_y_end", "mfa_before"}),
    ("provider is google workspace or provider is azure ad", {"azure", "gworkspace"}),
    ("since the 25th of November and event type contains fail", {"failed_ip", "failed_ip_near", "mfa_y_end"}),
    (
        "ip address is empty and logins last week",
        {
            "edge_out",
            "edge_in",
            "week_ago_late",
            "week_ago_next",
            "week_ago_prev",
            "beta_week_ago",
            "azure",
            "gworkspace",
        },
    ),
    ("client is not auth ui and logins", {"both", "beta_week_ago"}),
]


@pytest.fixture
def events(tenant: Tenant) -> Tenant:
    EventLog.objects.bulk_create(
        EventLog(
            tenant=tenant,
            external_id=name,
            event_type=kind,
            client_name=client,
            provider_name=provider,
            email=email,
            ip_address=ip,
            created_on=when,
            **extra,
        )
        for name, kind, client, provider, email, ip, when, extra in EVENT_ROWS
    )
    return tenant


@pytest.mark.parametrize(("question", "expected"), EVENT_QUESTIONS, ids=[q for q, _ in EVENT_QUESTIONS])
def test_event_questions(events: Tenant, question: str, expected: set[str]) -> None:
    assert matching(EventLog, events, "events", question) == expected


def test_tenant_time_zone_with_daylight_saving(tenant: Tenant) -> None:
    """New York falls back on Sunday 1 November 2026: that "yesterday" is 25 hours long."""
    rows = {
        "early": at(2026, 11, 1, 0, 30, tz=NEW_YORK),  # EDT
        "late": at(2026, 11, 1, 23, 30, tz=NEW_YORK),  # EST: outside a naive 24-hour "yesterday"
        "today": at(2026, 11, 2, 0, 30, tz=NEW_YORK),
        "window_edge": datetime(2026, 11, 1, 17, tzinfo=UTC),  # exactly 24 hours before now
        "window_out": datetime(2026, 11, 1, 16, 59, 59, tzinfo=UTC),
    }
    EventLog.objects.bulk_create(
        EventLog(tenant=tenant, external_id=name, event_type="login", created_on=when) for name, when in rows.items()
    )
    now = datetime(2026, 11, 2, 17, tzinfo=UTC)  # Monday 2 November, 12:00 EST
    options = {"now": now, "tz": NEW_YORK}
    assert matching(EventLog, tenant, "events", "yesterday", **options) == {
        "early",
        "late",
        "window_edge",
        "window_out",
    }
    assert matching(EventLog, tenant, "events", "in the last 24 hours", **options) == {"late", "today", "window_edge"}
    assert matching(EventLog, tenant, "events", "today", **options) == {"today"}


# ---- jobs -----------------------------------------------------------------------------------------------

JOB_ROWS = [
    # name, job name, type, status, created at (Berlin), message, stacktrace
    (
        "trim_fail_recent",
        "audit log trim",
        "trim",
        "failed",
        at(2026, 11, 26, 3),
        "Timeout after 30s",
        "Traceback (most recent call last):\nTimeoutError",
    ),
    ("trim_ok", "audit log trim", "trim", "success", at(2026, 11, 25, 3), "Trimmed 120 rows", ""),
    ("trim_near", "audit log trim v2", "trim", "success", at(2026, 11, 25, 4), "Trimmed 3 rows", ""),
    ("email_fail", "weekly digest", "email", "failed", at(2026, 11, 26, 10), "SMTP refused", "SMTPError"),
    ("email_ok", "weekly digest", "email", "success", at(2026, 11, 26, 11), "Sent 40", ""),
    ("export_fail_old", "export audit", "export", "failed", at(2026, 11, 20, 10), "Disk full", "OSError"),
    ("running_old", "nightly sync", "sync", "running", at(2026, 11, 26, 14, 29, 59), "", ""),
    ("running_edge", "nightly sync", "sync", "running", at(2026, 11, 26, 14, 30), "", ""),
    ("running_new", "nightly sync", "sync", "running", at(2026, 11, 26, 14, 31), "", ""),
    ("pending", "session cleanup", "cleanup", "pending", at(2026, 11, 26, 15), "", ""),
    ("h24_edge_in", "session cleanup", "cleanup", "success", at(2026, 11, 25, 15, 30), "", ""),
    ("h24_edge_out", "session cleanup", "cleanup", "success", at(2026, 11, 25, 15, 29, 59), "", ""),
    ("email_typo", "emailer import", "import", "failed", at(2026, 11, 26, 9), "bad csv", ""),
]

JOB_QUESTIONS: list[tuple[str, set[str]]] = [
    ('the job name is "audit log trim"', {"trim_fail_recent", "trim_ok"}),
    ("job type contains 'email' and status is 'failed'", {"email_fail"}),
    (
        "the job was created in the last 24 hours",
        {
            "trim_fail_recent",
            "email_fail",
            "email_ok",
            "running_old",
            "running_edge",
            "running_new",
            "pending",
            "h24_edge_in",
            "email_typo",
        },
    ),
    ("show running jobs older than 1 hour", {"running_old"}),
    ("failed jobs", {"trim_fail_recent", "email_fail", "export_fail_old", "email_typo"}),
    ("message contains timeout", {"trim_fail_recent"}),
    ("stacktrace contains TimeoutError and job type is trim", {"trim_fail_recent"}),
    ("job name like *sync*", {"running_old", "running_edge", "running_new"}),
    ("job name like 'audit*trim'", {"trim_fail_recent", "trim_ok"}),
    ("job name starts with audit log trim", {"trim_fail_recent", "trim_ok", "trim_near"}),
    ("status is one of (running, pending)", {"running_old", "running_edge", "running_new", "pending"}),
    ("succeeded jobs yesterday", {"trim_ok", "trim_near", "h24_edge_in", "h24_edge_out"}),
    ("jobs updated today that failed", {"trim_fail_recent", "email_fail", "email_typo"}),
    ("stacktrace is empty and status is success", {"trim_ok", "trim_near", "email_ok", "h24_edge_in", "h24_edge_out"}),
    ("export or import jobs", {"export_fail_old", "email_typo"}),
    ("job type is not trim and failed", {"email_fail", "export_fail_old", "email_typo"}),
]


@pytest.fixture
def jobs(tenant: Tenant) -> Tenant:
    JobLog.objects.bulk_create(
        JobLog(
            tenant=tenant,
            external_id=name,
            job_id=name,
            job_name=job_name,
            job_type=kind,
            latest_status=status,
            created_at=when,
            updated_at=when,
            message=message,
            stacktrace=trace,
        )
        for name, job_name, kind, status, when, message, trace in JOB_ROWS
    )
    return tenant


@pytest.mark.parametrize(("question", "expected"), JOB_QUESTIONS, ids=[q for q, _ in JOB_QUESTIONS])
def test_job_questions(jobs: Tenant, question: str, expected: set[str]) -> None:
    assert matching(JobLog, jobs, "jobs", question) == expected


# ---- notifications --------------------------------------------------------------------------------------

NOTIFICATION_ROWS = [
    # name, subject, recipient, status, category, timestamp (Berlin)
    ("totp_y", "Your TOTP reset code", "user@example.com", "sent", "mfa_enrollment", at(2026, 11, 25, 10)),
    ("totp_today", "TOTP reset", "user@example.com", "sent", "mfa_enrollment", at(2026, 11, 26, 9)),
    ("totp_near_y", "TOTP re-set notice", "user@example.com", "sent", "system", at(2026, 11, 25, 11)),
    ("fail_user", "Reset your password", "user@example.com", "failed", "password_reset", at(2026, 11, 24, 10)),
    ("fail_other", "Reset your password", "other@example.com", "failed", "password_reset", at(2026, 11, 24, 11)),
    ("bounce_user", "Welcome", "user@example.com", "bounced", "welcome", at(2026, 11, 24, 12)),
    ("fail_user_case", "Alert", "USER@EXAMPLE.COM", "failed", "alert", at(2026, 11, 23, 10)),
    ("invite_lw", "Join us", "a@example.com", "sent", "invitation", at(2026, 11, 17, 10)),
    ("invite_lw_edge", "Join us", "b@example.com", "sent", "invitation", at(2026, 11, 22, 23, 59, 59)),
    ("invite_tw_edge", "Join us", "c@example.com", "sent", "invitation", at(2026, 11, 23)),
    ("welcome_lw", "Welcome", "d@example.com", "pending", "welcome", at(2026, 11, 18, 10)),
]

NOTIFICATION_QUESTIONS: list[tuple[str, set[str]]] = [
    ("the email subject contains 'totp reset' and the timestamp is from yesterday", {"totp_y"}),
    ("recipient is user@example.com and status is failed", {"fail_user", "fail_user_case"}),
    ("category is invitation and the log was created last week", {"invite_lw", "invite_lw_edge"}),
    ("bounced emails", {"bounce_user"}),
    ("user@example.com", {"totp_y", "totp_today", "totp_near_y", "fail_user", "bounce_user", "fail_user_case"}),
    ("failed or bounced emails to user@example.com", {"fail_user", "fail_other", "fail_user_case", "bounce_user"}),
    ("(failed or bounced) emails to user@example.com", {"fail_user", "fail_user_case", "bounce_user"}),
    ("password reset emails that failed", {"fail_user", "fail_other"}),
    ("invitations this week", {"invite_tw_edge"}),
    ("pending welcome emails", {"welcome_lw"}),
    ("subject starts with totp", {"totp_today", "totp_near_y"}),
    ("status is not sent and category is not welcome", {"fail_user", "fail_other", "fail_user_case"}),
]


@pytest.fixture
def notifications(tenant: Tenant) -> Tenant:
    NotificationLog.objects.bulk_create(
        NotificationLog(
            tenant=tenant,
            external_id=name,
            subject=subject,
            recipient=recipient,
            status=status,
            category=category,
            timestamp=when,
        )
        for name, subject, recipient, status, category, when in NOTIFICATION_ROWS
    )
    return tenant


@pytest.mark.parametrize(("question", "expected"), NOTIFICATION_QUESTIONS, ids=[q for q, _ in NOTIFICATION_QUESTIONS])
def test_notification_questions(notifications: Tenant, question: str, expected: set[str]) -> None:
    assert matching(NotificationLog, notifications, "notifications", question) == expected


# ---- audit ----------------------------------------------------------------------------------------------

AUDIT_ROWS = [
    # name, action, target, actor, timestamp (Berlin), extra
    ("upd_google_lw", "update IdentityProvider", "Google IdP", "admin@example.com", at(2026, 11, 18, 10), {}),
    ("upd_google_old", "update IdentityProvider", "Google IdP", "admin@example.com", at(2026, 11, 10, 10), {}),
    ("upd_okta_lw", "update IdentityProvider", "Okta", "alice@example.com", at(2026, 11, 19, 10), {}),
    ("create_google_lw", "create IdentityProvider", "Google Workspace", "alice@example.com", at(2026, 11, 20), {}),
    ("upd_app_google_lw", "update Application", "google-sso-app", "admin@example.com", at(2026, 11, 20, 10), {}),
    ("upd_idp_last_month", "update IdentityProvider", "Azure", "admin@example.com", at(2026, 10, 10, 10), {}),
    ("del_role_y", "delete Role", "test role", "root@corp.example", at(2026, 11, 25, 10), {}),
    ("del_user_y", "delete User", "bob@example.com", "root@corp.example", at(2026, 11, 25, 23, 59, 59), {}),
    ("del_user_today", "delete User", "carol@example.com", "root@corp.example", at(2026, 11, 26), {}),
    ("del_user_2d", "delete User", "dave@example.com", "root@corp.example", at(2026, 11, 24, 23, 59, 59), {}),
    ("role_test_near", "update Role", "test roles", "admin@example.com", at(2026, 11, 22, 10), {}),
    (
        "disable_app",
        "disable Application",
        "auth ui",
        "ops@example.org",
        at(2026, 11, 25, 9),
        {"comments": "ticket 42", "old_entity": {"enabled": True}, "new_entity": {"enabled": False, "name": "Zoë"}},
    ),
]

AUDIT_QUESTIONS: list[tuple[str, set[str]]] = [
    ("action is 'update IdentityProvider' and the timestamp is from last month", {"upd_idp_last_month"}),
    (
        "the actor is like example.com",
        {
            "upd_google_lw",
            "upd_google_old",
            "upd_okta_lw",
            "create_google_lw",
            "upd_app_google_lw",
            "upd_idp_last_month",
            "role_test_near",
        },
    ),
    ("the target is 'test role'", {"del_role_y"}),
    ("show me all delete actions from yesterday", {"del_role_y", "del_user_y"}),
    ("who modified the google provider last week", {"upd_google_lw"}),
    ("deleted users", {"del_user_y", "del_user_today", "del_user_2d"}),
    ("comments contains ticket", {"disable_app"}),
    ("new entity contains zoë", {"disable_app"}),
    ("diff contains enabled", {"disable_app"}),
    ("disabled applications by ops@example.org", {"disable_app"}),
    ("role changes", {"del_role_y", "role_test_near"}),
    # "and" binds tighter: created providers (any time) or updates of anything last week
    (
        "providers created or modified last week",
        {"create_google_lw", "upd_google_lw", "upd_okta_lw", "upd_app_google_lw", "role_test_near"},
    ),
    ("identity provider changes last week", {"upd_google_lw", "upd_okta_lw", "create_google_lw"}),
    ("actor is root@corp.example and not deleted roles", {"del_user_y", "del_user_today", "del_user_2d"}),
]


@pytest.fixture
def audit(tenant: Tenant) -> Tenant:
    for name, action, target, actor, when, extra in AUDIT_ROWS:
        AuditLog.objects.create(
            tenant=tenant, external_id=name, action=action, target=target, actor=actor, timestamp=when, **extra
        )
    return tenant


@pytest.mark.parametrize(("question", "expected"), AUDIT_QUESTIONS, ids=[q for q, _ in AUDIT_QUESTIONS])
def test_audit_questions(audit: Tenant, question: str, expected: set[str]) -> None:
    assert matching(AuditLog, audit, "audit", question) == expected


# ---- sessions and grants --------------------------------------------------------------------------------

SESSION_ROWS = [
    # name, user id, email, status, protocol, client id, created at (Berlin)
    ("u123_active", "123", "u@example.com", "active", "OIDC", "auth-ui", at(2026, 11, 26, 10)),
    ("u123_revoked", "123", "u@example.com", "revoked", "SAML", "auth-ui", at(2026, 11, 20, 10)),
    ("u1234_active", "1234", "v@example.com", "active", "OIDC", "auth-ui-beta", at(2026, 11, 26, 11)),
    ("u12_active", "12", "w@example.com", "active", "OIDC", "admin", at(2026, 11, 26, 12)),
    ("u77_saml", "77", "u@example.com", "active", "SAML", "admin", at(2026, 11, 25, 16)),
]

SESSION_QUESTIONS: list[tuple[str, set[str]]] = [
    ("user 123", {"u123_active", "u123_revoked"}),
    ("active sessions for user 123", {"u123_active"}),
    ("saml sessions in the last 24 hours", {"u77_saml"}),
    ("user id is one of (12, 1234)", {"u1234_active", "u12_active"}),
    ("user u@example.com", {"u123_active", "u123_revoked", "u77_saml"}),
    ("client id is auth-ui", {"u123_active", "u123_revoked"}),
    ("protocol is oidc and status is not revoked", {"u123_active", "u1234_active", "u12_active"}),
]

GRANT_ROWS = [
    # name, client, provider, status, email, created at (Berlin)
    ("g_auth_ui", "auth ui", "google", "active", "user@example.com", at(2026, 11, 26, 10)),
    ("g_auth_ui_beta", "auth ui beta", "google", "active", "user@example.com", at(2026, 11, 26, 11)),
    ("g_expired", "auth ui", "google", "expired", "user@example.com", at(2026, 11, 10, 10)),
    ("g_revoked_other", "billing portal", "azure ad", "revoked", "other@example.com", at(2026, 10, 30, 10)),
]

GRANT_QUESTIONS: list[tuple[str, set[str]]] = [
    ("client is auth ui", {"g_auth_ui", "g_expired"}),
    ("active grants for user@example.com", {"g_auth_ui", "g_auth_ui_beta"}),
    ("expired grants where provider is google", {"g_expired"}),
    ("client is auth ui and the grant was created this month", {"g_auth_ui", "g_expired"}),
    ("revoked or expired grants", {"g_expired", "g_revoked_other"}),
]


@pytest.fixture
def sessions(tenant: Tenant) -> Tenant:
    Session.objects.bulk_create(
        Session(
            tenant=tenant,
            external_id=name,
            session_id=name,
            user_id=user_id,
            email=email,
            status=status,
            protocol=protocol,
            client_id=client,
            created_at=when,
        )
        for name, user_id, email, status, protocol, client, when in SESSION_ROWS
    )
    Grant.objects.bulk_create(
        Grant(
            tenant=tenant,
            external_id=name,
            grant_id=name,
            client=client,
            provider=provider,
            status=status,
            email=email,
            created_at=when,
        )
        for name, client, provider, status, email, when in GRANT_ROWS
    )
    return tenant


@pytest.mark.parametrize(("question", "expected"), SESSION_QUESTIONS, ids=[q for q, _ in SESSION_QUESTIONS])
def test_session_questions(sessions: Tenant, question: str, expected: set[str]) -> None:
    assert matching(Session, sessions, "sessions", question) == expected


@pytest.mark.parametrize(("question", "expected"), GRANT_QUESTIONS, ids=[q for q, _ in GRANT_QUESTIONS])
def test_grant_questions(sessions: Tenant, question: str, expected: set[str]) -> None:
    assert matching(Grant, sessions, "grants", question) == expected


def test_every_guide_example_is_asked_against_the_database() -> None:
    asked = {q for q, _ in EVENT_QUESTIONS + JOB_QUESTIONS + NOTIFICATION_QUESTIONS + AUDIT_QUESTIONS}
    assert {question for _, question, _ in GUIDE} <= asked


def test_now_is_the_fixtures_now() -> None:
    assert at(2026, 11, 26, 15, 30) == NOW
