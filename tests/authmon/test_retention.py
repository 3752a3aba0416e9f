"""Retention settings: super admins only, validated, audited."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditLog
from authmon import registry, retention
from authmon.models import Role
from tests.authmon.test_log_views import login
from tests.samples import sample_record


def form_data(**overrides):
    """Every kind at its current (default) retention, but for ``overrides``."""
    data = {k.name: k.default_retention_days for k in registry.kinds()}
    data.update(overrides)
    return data


def test_super_admin_changes_retention_and_it_is_audited(client, tenant_a):
    login(client, tenant_a, Role.SUPER_ADMIN)
    response = client.post(reverse("retention"), form_data(events=900))
    assert response.status_code == 302
    tenant_a.refresh_from_db()
    assert tenant_a.retention_days("events") == 900
    record = AuditLog.objects.get(action="update TenantSettings")
    assert record.new_entity["retention_events_days"] == 900
    assert record.diff["retention_events_days"]["_new"] == 900


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


@pytest.fixture
def aged(tenant_a, tenant_b):
    """Events of tenant A aged 10, 25, 40 and 400 days, and old events of tenant B that A's change never counts."""
    events = registry.get("events")
    now = timezone.now()
    for days in (10, 25, 40, 400):
        sample_record(events, tenant_a, "aged", when=now - dt.timedelta(days=days))
    for _ in range(3):
        sample_record(events, tenant_b, "other", when=now - dt.timedelta(days=400))
    return events


def _saved(tenant):
    return {k.name: tenant.retention_days(k.name) for k in registry.kinds()}


def test_shortening_without_confirm_changes_nothing_and_shows_what_the_trim_would_remove(client, tenant_a, aged):
    login(client, tenant_a, Role.SUPER_ADMIN)
    before = _saved(tenant_a)
    response = client.post(reverse("retention"), form_data(events=20, audit=2000))
    assert response.status_code == 200
    assert _saved(tenant_a) == before
    assert not AuditLog.objects.filter(action="update TenantSettings").exists()
    body = response.content.decode()
    preview = re.search(r'id="retention-preview".*?</form>', body, re.S).group(0)
    assert re.search(r'data-kind="events"[^>]*>.*?365 → 20 days.*?<td[^>]*>3</td>', preview, re.S)
    assert re.search(r'data-kind="audit"[^>]*>.*?2555 → 2000 days.*?<td[^>]*>0</td>', preview, re.S)
    assert 'name="confirm"' in preview
    assert re.search(r'<input type="hidden" name="events" value="20">', preview)


def test_confirming_the_shortening_saves_and_audits_it(client, tenant_a, aged):
    login(client, tenant_a, Role.SUPER_ADMIN)
    body = client.post(reverse("retention"), form_data(events=20)).content.decode()
    confirm = re.search(r'name="confirm" value="([^"]+)"', body).group(1)
    response = client.post(reverse("retention"), {**form_data(events=20), "confirm": confirm})
    assert response.status_code == 302
    assert tenant_a.retention_days("events") == 20
    record = AuditLog.objects.get(action="update TenantSettings")
    assert record.old_entity == {"retention_events_days": 365}
    assert record.new_entity == {"retention_events_days": 20}


def test_a_confirmation_of_other_values_is_asked_again(client, tenant_a, aged):
    login(client, tenant_a, Role.SUPER_ADMIN)
    body = client.post(reverse("retention"), form_data(events=30)).content.decode()
    confirm = re.search(r'name="confirm" value="([^"]+)"', body).group(1)
    response = client.post(reverse("retention"), {**form_data(events=5), "confirm": confirm})
    assert response.status_code == 200
    assert tenant_a.retention_days("events") == 365
    assert "365 → 5 days" in response.content.decode()


def test_lengthening_or_keeping_saves_at_once(client, tenant_a, aged):
    login(client, tenant_a, Role.SUPER_ADMIN)
    assert client.post(reverse("retention"), form_data(events=0, jobs=120)).status_code == 302
    assert tenant_a.retention_days("events") == 0 and tenant_a.retention_days("jobs") == 120
    assert client.post(reverse("retention"), form_data(events=0, jobs=120)).status_code == 302
    assert AuditLog.objects.filter(action="update TenantSettings").count() == 1


def test_from_forever_to_a_limit_is_a_shortening(client, tenant_a, aged):
    retention.retention_set(tenant=tenant_a, days={"events": 0}, actor="setup@example.test")
    login(client, tenant_a, Role.SUPER_ADMIN)
    response = client.post(reverse("retention"), form_data(events=30))
    assert response.status_code == 200 and tenant_a.retention_days("events") == 0
    assert "forever → 30 days" in response.content.decode()


def test_preview_counts_per_kind_and_tenant_and_stops_at_the_cap(tenant_a, aged):
    now = timezone.now()
    cuts = {c.kind.name: c for c in retention.retention_preview(tenant=tenant_a, days={"events": 20}, now=now)}
    assert set(cuts) == {"events"}
    assert (cuts["events"].old_days, cuts["events"].new_days, cuts["events"].rows, cuts["events"].capped) == (
        365,
        20,
        3,
        False,
    )
    assert retention.retention_preview(tenant=tenant_a, days={"events": 30}, now=now)[0].rows == 2
    assert retention.retention_preview(tenant=tenant_a, days={"events": 500}, now=now) == []
    capped = retention.retention_preview(tenant=tenant_a, days={"events": 5}, now=now, cap=2)[0]
    assert (capped.rows, capped.capped) == (2, True)
