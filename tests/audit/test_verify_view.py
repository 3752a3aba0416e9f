"""The "Verify integrity" action of the Audit Logs page: super admins only, a result page naming the break."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from audit.models import AuditLog
from authmon import registry
from authmon.models import Role
from tests.audit.test_chain import tamper, write
from tests.authmon.test_log_views import login


def test_super_admin_sees_the_button_and_an_intact_chain(client, tenant_a):
    write(tenant_a, 3)
    login(client, tenant_a, Role.SUPER_ADMIN)
    page = client.get(registry.get("audit").list_url).content.decode()
    assert 'id="verify-chain-button"' in page
    response = client.post(reverse("audit_verify"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-ok="true"' in body
    assert "The audit chain is intact" in body
    record = AuditLog.objects.filter(action="verify AuditLog").get()
    assert record.new_entity["ok"] is True and record.actor.startswith("super_admin")


def test_a_broken_chain_names_the_first_broken_link(client, tenant_a):
    rows = sorted(write(tenant_a, 4), key=lambda r: r.seq)
    tamper("UPDATE audit_auditlog SET target = %s WHERE id = %s", ["someone else", rows[1].pk])
    login(client, tenant_a, Role.SUPER_ADMIN)
    body = client.post(reverse("audit_verify")).content.decode()
    assert 'data-ok="false"' in body
    assert "broken at position 2" in body
    assert reverse("audit:auditlog_detail", args=[rows[1].pk]) in body


def test_super_admin_verifies_the_tenant_switched_to(client, tenant_a, tenant_b):
    write(tenant_b, 2)
    login(client, tenant_a, Role.SUPER_ADMIN)
    client.post(reverse("tenant_switch"), {"tenant": tenant_b.slug})
    body = client.post(reverse("audit_verify")).content.decode()
    assert "globex: OK, 3 records" in body  # the two written, and the switch's "view Tenant" record (DESIGN 4)
    assert AuditLog.objects.filter(tenant=tenant_b, action="view Tenant").count() == 1


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.TENANT_ADMIN])
def test_other_roles_cannot_verify(client, tenant_a, role):
    login(client, tenant_a, role)
    assert 'id="verify-chain-button"' not in client.get(registry.get("audit").list_url).content.decode()
    assert client.get(reverse("audit_verify")).status_code == 403
    assert client.post(reverse("audit_verify")).status_code == 403
    assert not AuditLog.objects.filter(action="verify AuditLog").exists()


def test_get_explains_and_offers_the_check(client, tenant_a):
    login(client, tenant_a, Role.SUPER_ADMIN)
    body = client.get(reverse("audit_verify")).content.decode()
    assert 'id="verify-chain-run"' in body and "verify-result" not in body
    assert connection.vendor in {"sqlite", "postgresql"}


def test_the_page_says_whether_the_database_defends_itself(client, tenant_a):
    """On when the console's role meets row-level security (the app role), off (and why) otherwise."""
    from tests import dbrole

    login(client, tenant_a, Role.SUPER_ADMIN)
    body = client.get(reverse("audit_verify")).content.decode()
    if connection.vendor != "postgresql":
        assert 'data-on="false"' in body and "embedded mode (SQLite)" in body
    elif dbrole.app_role():  # the suite runs as the app role: requests go through it
        assert 'data-on="true"' in body and f"connects as {dbrole.app_role()}" in body
    else:
        assert 'data-on="false"' in body and "owns the tables or is a superuser" in body


def test_the_app_role_is_reported_as_defended(tenant_a, app_role_session):
    from authmon.dbroles import defences_state

    defended, text = defences_state()
    assert defended and f"connects as {app_role_session}" in text
