"""Generic view tests, run for every registered kind, every role and two tenants (STYLE.md)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from authmon import registry
from authmon.models import Role
from tests.conftest import PASSWORD, make_user
from tests.samples import sample_record

KINDS = [k.name for k in registry.kinds()]
ROLES = [Role.AUDITOR, Role.TENANT_ADMIN, Role.SUPER_ADMIN]


@pytest.fixture
def seeded(tenant_a, tenant_b):
    """One record per kind in each tenant, each carrying a canary string unique to its tenant."""
    own = {k.name: sample_record(k, tenant_a, "canary-own") for k in registry.kinds()}
    foreign = {k.name: sample_record(k, tenant_b, "canary-foreign") for k in registry.kinds()}
    return own, foreign


def login(client, tenant, role):
    user = make_user(tenant, role, f"{role}-{tenant.slug}@example.test")
    assert client.login(username=user.email, password=PASSWORD)
    return user


@pytest.mark.parametrize("kind_name", KINDS)
def test_anonymous_is_sent_to_login(client, db, kind_name):
    kind = registry.get(kind_name)
    for url in (kind.list_url, reverse(kind.url_name("detail"), args=[1]), kind.export_url):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind_name", KINDS)
def test_list_shows_only_own_tenant(client, seeded, tenant_a, kind_name, role):
    login(client, tenant_a, role)
    kind = registry.get(kind_name)
    response = client.get(kind.list_url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "canary-own" in body
    assert "canary-foreign" not in body


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind_name", KINDS)
def test_details_of_other_tenant_are_404(client, seeded, tenant_a, kind_name, role):
    own, foreign = seeded
    login(client, tenant_a, role)
    kind = registry.get(kind_name)
    assert client.get(reverse(kind.url_name("detail"), args=[own[kind_name].pk])).status_code == 200
    assert client.get(reverse(kind.url_name("detail"), args=[foreign[kind_name].pk])).status_code == 404


def _may_export(role: str, kind_name: str) -> bool:
    if kind_name == "audit":
        return role == Role.SUPER_ADMIN
    return role in (Role.TENANT_ADMIN, Role.SUPER_ADMIN)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind_name", KINDS)
def test_export_follows_role_table_and_tenant(client, seeded, tenant_a, kind_name, role):
    login(client, tenant_a, role)
    kind = registry.get(kind_name)
    for fmt in ("json", "csv"):
        response = client.get(kind.export_url, {"format": fmt, "limit": 100})
        if not _may_export(role, kind_name):
            assert response.status_code == 403
            continue
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        body = b"".join(response.streaming_content).decode()
        assert "canary-own" in body
        assert "canary-foreign" not in body
        if fmt == "json":
            data = json.loads(body)
            assert data["header"]["kind"] == kind_name
            assert data["header"]["tenant"] == tenant_a.slug
            assert data["header"]["count"] == len(data["records"])
            # Audit exports also hold the console's own records (the sign-in and the export itself).
            ours = [r for r in data["records"] if "canary-own" in json.dumps(r)]
            assert len(ours) == 1


def test_super_admin_switches_tenant(client, seeded, tenant_a, tenant_b):
    login(client, tenant_a, Role.SUPER_ADMIN)
    events = registry.get("events")
    response = client.post(reverse("tenant_switch"), {"tenant": tenant_b.slug, "next": events.list_url})
    assert response.status_code == 302
    body = client.get(events.list_url).content.decode()
    assert "canary-foreign" in body
    assert "canary-own" not in body


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.TENANT_ADMIN])
def test_only_super_admin_may_switch_tenant(client, seeded, tenant_a, tenant_b, role):
    login(client, tenant_a, role)
    assert client.post(reverse("tenant_switch"), {"tenant": tenant_b.slug}).status_code == 403
    body = client.get(registry.get("events").list_url).content.decode()
    assert "canary-foreign" not in body


def test_console_login_is_audited(client, tenant_a):
    from audit.models import AuditLog

    user = login(client, tenant_a, Role.AUDITOR)
    record = AuditLog.objects.get(action="login Console")
    assert record.tenant == tenant_a
    assert record.actor == user.email
