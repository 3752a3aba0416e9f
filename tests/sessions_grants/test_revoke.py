"""Revoking sessions and grants: roles, tenant isolation, idempotence, audit records, the feed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditLog
from authmon import registry
from authmon.models import Role
from sessions_grants.models import Grant, Session
from tests.authmon.test_log_views import login
from tests.samples import sample_record


@pytest.fixture
def victim(tenant_a):
    sessions = registry.get("sessions")
    grants = registry.get("grants")
    s1 = sample_record(sessions, tenant_a, "v", email="victim@example.com", user_id="123", status="active")
    s2 = sample_record(sessions, tenant_a, "v", email="victim@example.com", user_id="123", status="active")
    s3 = sample_record(sessions, tenant_a, "v", email="other@example.com", user_id="456", status="active")
    g1 = sample_record(grants, tenant_a, "v", email="victim@example.com", user_id="123", status="active")
    return {"sessions": [s1, s2], "other": s3, "grants": [g1]}


def revoke_url(obj):
    kind = registry.for_model(type(obj))
    return reverse(kind.url_name("revoke"), args=[obj.pk])


@pytest.mark.parametrize("role,allowed", [(Role.AUDITOR, False), (Role.TENANT_ADMIN, True), (Role.SUPER_ADMIN, True)])
def test_revoke_session_by_role(client, tenant_a, victim, role, allowed):
    login(client, tenant_a, role)
    session = victim["sessions"][0]
    response = client.post(revoke_url(session), {"comment": "compromised laptop"})
    session.refresh_from_db()
    if not allowed:
        assert response.status_code == 403
        assert session.status == "active"
        return
    assert response.status_code == 302
    assert session.status == "revoked"
    assert session.revoked_at is not None
    record = AuditLog.objects.get(action="revoke Session")
    assert record.target == session.session_id
    assert record.subject == "victim@example.com"
    assert record.comments == "compromised laptop"
    assert record.old_entity["status"] == "active"
    assert record.new_entity["status"] == "revoked"
    assert record.diff["status"] == {"_old": "active", "_new": "revoked"}


def test_revoke_twice_is_harmless(client, tenant_a, victim):
    login(client, tenant_a, Role.TENANT_ADMIN)
    session = victim["sessions"][0]
    client.post(revoke_url(session))
    first = Session.objects.get(pk=session.pk).revoked_at
    response = client.post(revoke_url(session), follow=True)
    assert "already revoked" in response.content.decode()
    assert Session.objects.get(pk=session.pk).revoked_at == first
    assert AuditLog.objects.filter(action="revoke Session").count() == 1


def test_get_shows_confirmation_without_revoking(client, tenant_a, victim):
    login(client, tenant_a, Role.TENANT_ADMIN)
    grant = victim["grants"][0]
    response = client.get(revoke_url(grant))
    assert response.status_code == 200
    assert "refresh token" in response.content.decode()
    grant.refresh_from_db()
    assert grant.status == "active"


def test_cannot_revoke_other_tenants_session(client, tenant_a, tenant_b, victim):
    foreign = sample_record(registry.get("sessions"), tenant_b, "f", status="active")
    login(client, tenant_a, Role.TENANT_ADMIN)
    assert client.post(revoke_url(foreign)).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "active"


def test_contain_account_revokes_everything_of_that_user_only(client, tenant_a, victim):
    login(client, tenant_a, Role.TENANT_ADMIN)
    url = reverse("revoke_all", args=["victim@example.com"])
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert Session.objects.filter(status="revoked").count() == 0
    response = client.post(url, {"scope": "all", "comment": "account takeover"})
    assert response.status_code == 200
    body = response.content.decode()
    for s in victim["sessions"]:
        assert s.session_id in body
    assert set(Session.objects.filter(status="revoked").values_list("pk", flat=True)) == {
        s.pk for s in victim["sessions"]
    }
    assert Grant.objects.get(pk=victim["grants"][0].pk).status == "revoked"
    assert Session.objects.get(pk=victim["other"].pk).status == "active"
    assert AuditLog.objects.filter(action__startswith="revoke ").count() == 3


def test_revoke_all_by_user_id_and_scope(client, tenant_a, victim):
    login(client, tenant_a, Role.SUPER_ADMIN)
    client.post(reverse("revoke_all", args=["123"]), {"scope": "sessions"})
    assert Session.objects.filter(user_id="123", status="revoked").count() == 2
    assert Grant.objects.get(pk=victim["grants"][0].pk).status == "active"


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
