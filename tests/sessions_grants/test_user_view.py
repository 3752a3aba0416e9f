"""The user view as the incident-response page: what the guide's "Suspected account compromise" checklist needs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from authmon import registry
from authmon.models import Role
from tests.authmon.test_log_views import login
from tests.samples import sample_record

EMAIL = "mallory.victim@example.com"
PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"
BOT_UA = "python-requests/2.31"


@pytest.fixture
def history(tenant_a, tenant_b):
    events, audit = registry.get("events"), registry.get("audit")
    sessions, grants = registry.get("sessions"), registry.get("grants")
    now = timezone.now()
    until = now + dt.timedelta(hours=4)

    def event(kind: str, ip: str, ua: str, hours_ago: float, tenant=tenant_a, email=EMAIL):
        return sample_record(
            events,
            tenant,
            "ev",
            event_type=kind,
            email=email,
            ip_address=ip,
            user_agent=ua,
            created_on=now - dt.timedelta(hours=hours_ago),
        )

    rows = {
        "failures": [event("login_failed", "198.51.100.9", BOT_UA, h) for h in (3, 2.5, 2)],
        "login": event("login", "198.51.100.9", BOT_UA, 1.5),
        "usual": event("login", "192.0.2.10", PHONE_UA, 40),
        "other_user": event("login_failed", "203.0.113.99", BOT_UA, 1, email="someone@example.com"),
        "other_tenant": event("login_failed", "203.0.113.77", BOT_UA, 1, tenant=tenant_b),
        "session": sample_record(
            sessions, tenant_a, "s", email=EMAIL, user_id="4242", status="active", expires_at=until
        ),
        "id_only_session": sample_record(
            sessions, tenant_a, "s", email="", user_id="4242", status="active", expires_at=until
        ),
        "grant": sample_record(grants, tenant_a, "g", email=EMAIL, user_id="4242", status="active", expires_at=until),
        "change": sample_record(
            audit, tenant_a, "chg", actor=EMAIL.upper(), action="update Application", target="payroll app"
        ),
        "change_about_them": sample_record(
            audit, tenant_a, "about", actor="admin@example.com", subject=EMAIL, action="update User", target=EMAIL
        ),
    }
    return rows


def test_user_view_has_the_checklist_sections(client, tenant_a, history):
    login(client, tenant_a, Role.AUDITOR)
    response = client.get(reverse("user_view", args=[EMAIL]))
    assert response.status_code == 200
    body = response.content.decode()
    for anchor in (
        "compromise-checklist",
        'id="events"',
        'id="devices"',
        'id="sessions"',
        'id="grants"',
        'id="changes"',
        'id="timeline"',
    ):
        assert anchor in body
    ctx = response.context
    # recent events, failures included, this user's only
    assert {e.pk for e in ctx["recent_events"]} == {e.pk for e in history["failures"]} | {
        history["login"].pk,
        history["usual"].pk,
    }
    assert body.count('class="table-danger"') == 3


def test_ips_and_devices_seen(client, tenant_a, history):
    login(client, tenant_a, Role.AUDITOR)
    devices = client.get(reverse("user_view", args=[EMAIL])).context["devices"]
    summary = {(d["ip_address"], d["user_agent"]): (d["events"], d["failures"]) for d in devices}
    assert summary == {("198.51.100.9", BOT_UA): (4, 3), ("192.0.2.10", PHONE_UA): (1, 0)}
    assert devices[0]["ip_address"] == "198.51.100.9"  # most recently seen first
    assert devices[0]["first_seen"] < devices[0]["last_seen"]


def test_sessions_grants_and_changes_made(client, tenant_a, history):
    login(client, tenant_a, Role.TENANT_ADMIN)
    response = client.get(reverse("user_view", args=[EMAIL]))
    ctx = response.context
    # the session known only by user id is found through the alias the other rows give
    assert ctx["aliases"] == ["4242"]
    assert {s.pk for s in ctx["sessions"]} == {history["session"].pk, history["id_only_session"].pk}
    assert [g.pk for g in ctx["grants"]] == [history["grant"].pk]
    assert [a.pk for a in ctx["changes"]] == [history["change"].pk]  # made BY the user, not about them
    assert ctx["counts"]["active_sessions"] == 2 and ctx["counts"]["failed_logins"] == 3
    body = response.content.decode()
    assert f"{reverse('sessions:session_detail', args=[history['session'].pk])}?confirm=revoke" in body
    assert 'id="contain-account"' in body


def test_user_view_by_user_id_reaches_the_email_events(client, tenant_a, history):
    login(client, tenant_a, Role.AUDITOR)
    ctx = client.get(reverse("user_view", args=["4242"])).context
    assert ctx["aliases"] == [EMAIL]
    assert len(ctx["recent_events"]) == 5
    assert ctx["counts"]["failed_logins"] == 3


def test_contain_account_confirmation_lists_what_will_go(client, tenant_a, history):
    login(client, tenant_a, Role.TENANT_ADMIN)
    ctx = client.get(reverse("user_view", args=["4242"]), {"confirm": "all"}).context
    assert {s.pk for s in ctx["to_revoke"]["sessions"]} == {history["session"].pk, history["id_only_session"].pk}
    assert [g.pk for g in ctx["to_revoke"]["grants"]] == [history["grant"].pk]
    only_grants = client.get(reverse("user_view", args=["4242"]), {"confirm": "grants"}).context
    assert only_grants["to_revoke"]["sessions"] == []


def test_user_view_never_shows_another_tenant(client, tenant_b, history):
    login(client, tenant_b, Role.SUPER_ADMIN)
    ctx = client.get(reverse("user_view", args=[EMAIL])).context
    assert [e.pk for e in ctx["recent_events"]] == [history["other_tenant"].pk]
    assert ctx["sessions"] == [] and ctx["grants"] == [] and ctx["changes"] == [] and ctx["aliases"] == []


def test_client_view_still_works(client, tenant_a, history):
    login(client, tenant_a, Role.AUDITOR)
    response = client.get(reverse("client_view", args=[history["session"].client_id]))
    assert response.status_code == 200
    assert response.context["counts"]["active_sessions"] == 1


def test_an_unknown_user_gets_no_records_not_the_playbook(client, tenant_a, history):
    login(client, tenant_a, Role.TENANT_ADMIN)
    page = client.get(reverse("user_view", args=["nobody@nowhere.example"]), {"confirm": "all"}).content.decode()
    assert 'id="no-records"' in page
    assert 'id="contain-account"' not in page and 'id="compromise-checklist"' not in page
    assert 'id="confirm-revoke-all"' not in page
    known = client.get(reverse("user_view", args=[EMAIL])).content.decode()
    assert 'id="contain-account"' in known and 'id="no-records"' not in known


@pytest.mark.parametrize(
    "search,offered", [("billing portal", False), (EMAIL, True), ("123", True), ("auth ui", False)]
)
def test_revoke_all_of_this_user_is_offered_only_for_a_user(client, tenant_a, history, search, offered):
    login(client, tenant_a, Role.TENANT_ADMIN)
    page = client.get(registry.get("sessions").list_url, {"search": search, "preset": "all"}).content.decode()
    assert ('id="revoke-all-for-user"' in page) is offered
