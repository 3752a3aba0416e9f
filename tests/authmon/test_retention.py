"""Retention settings: super admins only, validated, audited."""

import pytest
from django.urls import reverse

from audit.models import AuditLog
from authmon import registry
from authmon.models import Role
from tests.authmon.test_log_views import login


def form_data(**overrides):
    data = {k.name: 30 for k in registry.kinds()}
    data.update(overrides)
    return data


def test_super_admin_changes_retention_and_it_is_audited(client, tenant_a):
    login(client, tenant_a, Role.SUPER_ADMIN)
    response = client.post(reverse("retention"), form_data(events=90))
    assert response.status_code == 302
    tenant_a.refresh_from_db()
    assert tenant_a.retention_days("events") == 90
    record = AuditLog.objects.get(action="update TenantSettings")
    assert record.new_entity["retention_events_days"] == 90
    assert record.diff["retention_events_days"]["_new"] == 90


@pytest.mark.parametrize("value", ["-1", "abc", "40000"])
def test_bad_values_are_refused(client, tenant_a, value):
    login(client, tenant_a, Role.SUPER_ADMIN)
    before = tenant_a.retention_days("events")
    response = client.post(reverse("retention"), form_data(events=value))
    assert response.status_code == 400
    tenant_a.refresh_from_db()
    assert tenant_a.retention_days("events") == before
    assert not AuditLog.objects.filter(action="update TenantSettings").exists()


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.TENANT_ADMIN])
def test_others_cannot_set_retention(client, tenant_a, role):
    login(client, tenant_a, role)
    assert client.get(reverse("retention")).status_code == 403
    assert client.post(reverse("retention"), form_data()).status_code == 403


def test_retention_link_only_for_super_admin(client, tenant_a):
    login(client, tenant_a, Role.TENANT_ADMIN)
    assert reverse("retention") not in client.get("/").content.decode()
    client.logout()
    login(client, tenant_a, Role.SUPER_ADMIN)
    assert reverse("retention") in client.get("/").content.decode()


def test_the_phone_menu_offers_retention_and_api_tokens_to_super_admins(client, tenant_a):
    import re

    login(client, tenant_a, Role.SUPER_ADMIN)
    page = client.get("/").content.decode()
    phone_menu = re.search(r'<ul class="navbar-nav me-auto d-lg-none">(.*?)</ul>', page, re.S).group(1)
    assert reverse("retention") in phone_menu and reverse("api_tokens") in phone_menu
