"""Revoking sessions and grants: roles, tenant isolation, bad input, idempotence, audit records, the feed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditLog
from authmon import registry
from authmon.models import Role
from sessions_grants.models import Grant, Session
from tests.api.conftest import make_client
from tests.authmon.test_log_views import login
from tests.samples import sample_record

LATER = dt.timedelta(hours=8)


@pytest.fixture
def victim(tenant_a):
    sessions = registry.get("sessions")
    grants = registry.get("grants")
    until = timezone.now() + LATER
    common = {"email": "victim@example.com", "user_id": "123", "status": "active", "expires_at": until}
    s1 = sample_record(sessions, tenant_a, "v", **common)
    s2 = sample_record(sessions, tenant_a, "v", **common)
    s3 = sample_record(
        sessions, tenant_a, "v", email="other@example.com", user_id="456", status="active", expires_at=until
    )
    g1 = sample_record(grants, tenant_a, "v", **common)
    return {"sessions": [s1, s2], "other": s3, "grants": [g1]}


def revoke_url(obj):
    kind = registry.for_model(type(obj))
    return reverse(kind.url_name("revoke"), args=[obj.pk])


def detail_url(obj):
    kind = registry.for_model(type(obj))
    return reverse(kind.url_name("detail"), args=[obj.pk])


@pytest.mark.parametrize("role,allowed", [(Role.AUDITOR, False), (Role.TENANT_ADMIN, True), (Role.SUPER_ADMIN, True)])
def test_revoke_session_by_role(client, tenant_a, victim, role, allowed):
    login(client, tenant_a, role)
    session = victim["sessions"][0]
    response = client.post(revoke_url(session), {"comment": "compromised laptop"})
    session.refresh_from_db()
    if not allowed:
        assert response.status_code == 403
        assert session.status == "active"
        assert not AuditLog.objects.filter(action="revoke Session").exists()
        return
    assert response.status_code == 302
    assert response["Location"] == detail_url(session)
    assert session.status == "revoked"
    assert session.revoked_at is not None
    record = AuditLog.objects.get(action="revoke Session")
    assert record.target == session.session_id
    assert record.subject == "victim@example.com"
    assert record.actor == f"{role}-acme@example.test"
    assert record.comments == "compromised laptop"
    assert record.old_entity["status"] == "active"
    assert record.new_entity["status"] == "revoked"
    assert record.diff["status"] == {"_old": "active", "_new": "revoked"}


def test_revoke_grant_says_refresh_tokens_stop(client, tenant_a, victim):
    login(client, tenant_a, Role.TENANT_ADMIN)
    grant = victim["grants"][0]
    response = client.post(revoke_url(grant), {"comment": "unused app"}, follow=True)
    body = response.content.decode()
    assert "every refresh token issued under the grant stops working" in body
    assert "Access tokens already issued stay valid until they expire" in body
    grant.refresh_from_db()
    assert grant.status == "revoked"
    assert AuditLog.objects.get(action="revoke Grant").target == grant.grant_id


def test_revoke_twice_is_harmless(client, tenant_a, victim):
    login(client, tenant_a, Role.TENANT_ADMIN)
    session = victim["sessions"][0]
    client.post(revoke_url(session))
    first = Session.objects.get(pk=session.pk).revoked_at
    response = client.post(revoke_url(session), follow=True)
    assert "already revoked" in response.content.decode()
    assert Session.objects.get(pk=session.pk).revoked_at == first
    assert AuditLog.objects.filter(action="revoke Session").count() == 1


@pytest.mark.parametrize("target", ["session", "grant", "user"])
def test_get_to_a_revoke_url_is_405(client, tenant_a, victim, target):
    login(client, tenant_a, Role.TENANT_ADMIN)
    url = {
        "session": revoke_url(victim["sessions"][0]),
        "grant": revoke_url(victim["grants"][0]),
        "user": reverse("revoke_all", args=["victim@example.com"]),
    }[target]
    assert client.get(url).status_code == 405
    assert Session.objects.filter(status="revoked").count() == 0
    assert Grant.objects.filter(status="revoked").count() == 0


def test_missing_csrf_token_is_403(tenant_a, victim):
    client = Client(enforce_csrf_checks=True)
    login(client, tenant_a, Role.TENANT_ADMIN)
    session = victim["sessions"][0]
    assert client.post(revoke_url(session)).status_code == 403
    assert client.post(reverse("revoke_all", args=["123"]), {"scope": "all"}).status_code == 403
    assert Session.objects.filter(status="revoked").count() == 0
    # with the token from the confirmation form it works
    page = client.get(detail_url(session), {"confirm": "revoke"})
    token = page.context["csrf_token"]
    assert client.post(revoke_url(session), {"csrfmiddlewaretoken": str(token)}).status_code == 302
    assert Session.objects.get(pk=session.pk).status == "revoked"


def test_cannot_revoke_other_tenants_session(client, tenant_a, tenant_b, victim):
    foreign = sample_record(registry.get("sessions"), tenant_b, "f", status="active")
    foreign_grant = sample_record(registry.get("grants"), tenant_b, "f", status="active", email="victim@example.com")
    login(client, tenant_a, Role.TENANT_ADMIN)
    assert client.post(revoke_url(foreign)).status_code == 404
    assert client.post(revoke_url(foreign_grant)).status_code == 404
    # mass revocation only ever reaches the admin's own tenant
    client.post(reverse("revoke_all", args=["victim@example.com"]), {"scope": "all"})
    foreign.refresh_from_db()
    foreign_grant.refresh_from_db()
    assert (foreign.status, foreign_grant.status) == ("active", "active")


def test_revoking_a_session_that_does_not_exist_is_404(client, tenant_a, victim):
    login(client, tenant_a, Role.TENANT_ADMIN)
    missing = Session.objects.order_by("-pk").first().pk + 1000
    assert client.post(reverse("sessions:session_revoke", args=[missing])).status_code == 404
    assert client.post(reverse("grants:grant_revoke", args=[missing])).status_code == 404


def test_detail_page_confirmation_says_what_will_happen(client, tenant_a, victim):
    login(client, tenant_a, Role.TENANT_ADMIN)
    session = victim["sessions"][0]
    plain = client.get(detail_url(session)).content.decode()
    assert 'id="revoke-button"' in plain
    assert 'id="confirm-revoke"' not in plain
    body = client.get(detail_url(session), {"confirm": "revoke"}).content.decode()
    assert 'id="confirm-revoke"' in body
    assert f'action="{revoke_url(session)}"' in body
    assert "must sign in again" in body
    assert "Access tokens already issued stay valid until they expire" in body
    assert Session.objects.get(pk=session.pk).status == "active"  # showing the confirmation changes nothing
    grant_page = client.get(detail_url(victim["grants"][0]), {"confirm": "revoke"}).content.decode()
    assert "every refresh token issued under the grant stops working" in grant_page


def test_auditor_sees_no_revoke_buttons(client, tenant_a, victim):
    login(client, tenant_a, Role.AUDITOR)
    session = victim["sessions"][0]
    body = client.get(detail_url(session), {"confirm": "revoke"}).content.decode()
    assert 'id="revoke-button"' not in body and 'id="confirm-revoke"' not in body
    user_page = client.get(reverse("user_view", args=["victim@example.com"]), {"confirm": "all"}).content.decode()
    assert "contain-account" not in user_page and "confirm-revoke-all" not in user_page
    listing = client.get(registry.get("sessions").list_url, {"user_id": "123"}).content.decode()
    assert "revoke-link" not in listing and "revoke-all-for-user" not in listing


def test_contain_account_revokes_everything_of_that_user_only(client, tenant_a, victim):
    login(client, tenant_a, Role.TENANT_ADMIN)
    user_page = reverse("user_view", args=["victim@example.com"])
    confirm = client.get(user_page, {"confirm": "all"})
    assert confirm.status_code == 200
    text = confirm.content.decode()
    assert 'id="confirm-revoke-all"' in text
    assert f'action="{reverse("revoke_all", args=["victim@example.com"])}"' in text
    assert confirm.context["to_revoke"]["sessions"] and len(confirm.context["to_revoke"]["sessions"]) == 2
    assert Session.objects.filter(status="revoked").count() == 0
    response = client.post(reverse("revoke_all", args=["victim@example.com"]), {"scope": "all", "comment": "takeover"})
    assert response.status_code == 200
    body = response.content.decode()
    for s in victim["sessions"]:
        assert s.session_id in body
    assert victim["grants"][0].grant_id in body
    assert "Access tokens already issued stay valid until they expire" in body
    assert set(Session.objects.filter(status="revoked").values_list("pk", flat=True)) == {
        s.pk for s in victim["sessions"]
    }
    assert Grant.objects.get(pk=victim["grants"][0].pk).status == "revoked"
    assert Session.objects.get(pk=victim["other"].pk).status == "active"
    records = AuditLog.objects.filter(action__startswith="revoke ")
    assert records.count() == 3
    assert set(records.values_list("comments", flat=True)) == {"takeover"}


def test_revoke_all_by_user_id_and_scope(client, tenant_a, victim):
    login(client, tenant_a, Role.SUPER_ADMIN)
    client.post(reverse("revoke_all", args=["123"]), {"scope": "sessions"})
    assert Session.objects.filter(user_id="123", status="revoked").count() == 2
    assert Grant.objects.get(pk=victim["grants"][0].pk).status == "active"
    client.post(reverse("revoke_all", args=["123"]), {"scope": "grants"})
    assert Grant.objects.get(pk=victim["grants"][0].pk).status == "revoked"
    # again: nothing left to revoke, nothing audited twice
    response = client.post(reverse("revoke_all", args=["123"]), {"scope": "all"})
    assert response.context["result"].sessions == [] and response.context["result"].grants == []
    assert AuditLog.objects.filter(action__startswith="revoke ").count() == 3


def test_auditor_cannot_revoke_all(client, tenant_a, victim):
    login(client, tenant_a, Role.AUDITOR)
    assert client.post(reverse("revoke_all", args=["123"])).status_code == 403
    assert Session.objects.filter(status="revoked").count() == 0


def test_remove_column_only_for_admins(client, tenant_a, victim):
    login(client, tenant_a, Role.AUDITOR)
    body = client.get(registry.get("sessions").list_url).content.decode()
    assert "revoke-link" not in body
    client.logout()
    login(client, tenant_a, Role.TENANT_ADMIN)
    body = client.get(registry.get("sessions").list_url).content.decode()
    assert "revoke-link" in body
    # the delete icon opens the confirmation on the details page; it never revokes by itself
    assert f"{detail_url(victim['sessions'][0])}?confirm=revoke" in body


def test_sessions_page_filtered_by_user_offers_mass_revocation(client, tenant_a, victim):
    login(client, tenant_a, Role.TENANT_ADMIN)
    body = client.get(registry.get("sessions").list_url, {"user_id": "123"}).content.decode()
    assert f"{reverse('user_view', args=['123'])}?confirm=sessions" in body
    assert "revoke-all-for-user" not in client.get(registry.get("sessions").list_url).content.decode()


def test_status_api_and_feed_show_a_console_revocation_at_once(client, tenant_a, victim):
    api = make_client(tenant_a, ["read"])
    login(client, tenant_a, Role.TENANT_ADMIN)
    session, grant = victim["sessions"][0], victim["grants"][0]
    client.post(revoke_url(session), {"comment": "lost phone"})
    client.post(reverse("revoke_all", args=["victim@example.com"]), {"scope": "grants"})
    status = api.get(f"/api/v1/sessions/by-session-id/{session.session_id}/").json()
    assert status["status"] == "revoked" and status["revoked_at"]
    feed = api.get("/api/v1/revocations/").json()["results"]
    assert {(r["type"], r["id"]) for r in feed} == {("session", session.pk), ("grant", grant.pk)}
