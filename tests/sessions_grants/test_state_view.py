"""Sessions and grants are state, not history (DESIGN section 6b): their list's default view is every record whose
effective status is active, whatever its age; the page says so, its export and the pages that lead to it agree."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from authmon import registry
from authmon.models import Role
from tests.authmon.test_log_views import login
from tests.samples import sample_record

STATE_KINDS = ("sessions", "grants")


def _row(kind, tenant, key: str, *, age: dt.timedelta, status: str = "active", expires: dt.timedelta | None, **extra):
    now = timezone.now()
    return sample_record(
        kind,
        tenant,
        key,
        created_at=now - age,
        expires_at=None if expires is None else now + expires,
        status=status,
        **{kind.model.record_key: key, "user_id": "123", "email": "u123@example.com", **extra},
    )


@pytest.fixture
def state(tenant_a, tenant_b):
    """User 123's records of both kinds: three active (two older than any week), and three that are not."""
    rows = {}
    for name in STATE_KINDS:
        kind = registry.get(name)
        day = dt.timedelta(days=1)
        rows[name] = {
            "active_new": _row(kind, tenant_a, f"{name}-active-new", age=dt.timedelta(hours=2), expires=day),
            "active_old": _row(kind, tenant_a, f"{name}-active-old", age=40 * day, expires=day),
            "active_ancient": _row(kind, tenant_a, f"{name}-active-ancient", age=900 * day, expires=None),
            "past_expiry": _row(kind, tenant_a, f"{name}-past-expiry", age=dt.timedelta(hours=3), expires=-day),
            "revoked": _row(
                kind, tenant_a, f"{name}-revoked-new", age=dt.timedelta(hours=4), status="revoked", expires=day
            ),
            "expired_old": _row(kind, tenant_a, f"{name}-expired-old", age=20 * day, status="expired", expires=-day),
            "other_tenant": _row(kind, tenant_b, f"{name}-other-tenant", age=30 * day, expires=day),
        }
    return rows


def shown(body: str, name: str) -> set[str]:
    return set(re.findall(rf"{name}-[a-z]+-[a-z]+", body))


ACTIVE = {"active-new", "active-old", "active-ancient"}


def keys(name: str, suffixes: set[str]) -> set[str]:
    return {f"{name}-{s}" for s in suffixes}


@pytest.mark.parametrize("name", STATE_KINDS)
def test_the_default_view_is_every_active_record_whatever_its_age(client, tenant_a, state, name):
    kind = registry.get(name)
    login(client, tenant_a, Role.AUDITOR)
    body = client.get(kind.list_url).content.decode()
    assert shown(body, name) == keys(name, ACTIVE)
    # The page says what it shows, and how to see the rest.
    assert "Status: Active (default)" in body
    assert "created at: All time" in body
    assert "Last 7 days (default)" not in body
    clear = re.search(r'href="([^"]*)"[^>]*aria-label="Remove filter Status: Active \(default\)"', body)
    assert clear is not None
    everything = client.get(clear.group(1).replace("&amp;", "&")).content.decode()
    assert shown(everything, name) == keys(name, ACTIVE | {"past-expiry", "revoked-new", "expired-old"}), (
        "clearing the default shows every status"
    )
    assert "(default)</span>" not in everything and "Status: Active" not in everything


@pytest.mark.parametrize("name", STATE_KINDS)
def test_a_preset_or_another_status_replaces_the_default(client, tenant_a, state, name):
    kind = registry.get(name)
    login(client, tenant_a, Role.AUDITOR)
    week = client.get(kind.list_url, {"preset": "last7"}).content.decode()
    assert shown(week, name) == keys(name, {"active-new", "past-expiry", "revoked-new"})
    assert "(default)</span>" not in week
    revoked = client.get(kind.list_url, {"status": "revoked"}).content.decode()
    assert shown(revoked, name) == keys(name, {"revoked-new"})
    expired = client.get(kind.list_url, {"status": "expired"}).content.decode()
    assert shown(expired, name) == keys(name, {"past-expiry", "expired-old"}), "any age, like the default"
    both = client.get(kind.list_url, {"status": ["active", "revoked"], "preset": "last7"}).content.decode()
    assert shown(both, name) == keys(name, {"active-new", "revoked-new"})


@pytest.mark.parametrize("name", STATE_KINDS)
def test_excluding_a_status_replaces_the_default(client, tenant_a, state, name):
    """Click-to-filter's "Exclude active" is a choice about the status: the default must not come back beside it
    (which would show nothing at all)."""
    kind = registry.get(name)
    login(client, tenant_a, Role.AUDITOR)
    body = client.get(kind.list_url, {"status__not": "active"}).content.decode()
    assert shown(body, name) == keys(name, {"past-expiry", "revoked-new", "expired-old"})
    assert "(default)</span>" not in body


@pytest.mark.parametrize("name", STATE_KINDS)
def test_other_filters_keep_the_default_status(client, tenant_a, state, name):
    kind = registry.get(name)
    sample_record(
        kind,
        tenant_a,
        "x",
        **{kind.model.record_key: f"{name}-someone-else"},
        user_id="999",
        status="active",
        expires_at=None,
        created_at=timezone.now() - dt.timedelta(days=60),
    )
    login(client, tenant_a, Role.AUDITOR)
    body = client.get(kind.list_url, {"user_id": "123"}).content.decode()
    assert shown(body, name) == keys(name, ACTIVE)
    assert "Status: Active (default)" in body


@pytest.mark.parametrize("name", STATE_KINDS)
def test_the_export_holds_what_the_default_page_shows(client, tenant_a, state, name):
    kind = registry.get(name)
    login(client, tenant_a, Role.TENANT_ADMIN)
    for params in ({}, {"user_id": "123"}, {"preset": "last7"}):
        page = shown(client.get(kind.list_url, params).content.decode(), name)
        response = client.get(kind.export_url, {**params, "format": "json", "limit": "100"})
        document = json.loads(b"".join(response.streaming_content))
        exported = {r[kind.model.record_key] for r in document["records"]}
        assert exported == page, params
    header = json.loads(b"".join(client.get(kind.export_url, {"format": "json"}).streaming_content))["header"]
    assert header["filters"].get("status") == "active", "the header names the default filter it applied"


@pytest.mark.parametrize("name", STATE_KINDS)
def test_the_user_view_count_agrees_with_the_users_list(client, tenant_a, state, name):
    kind = registry.get(name)
    login(client, tenant_a, Role.TENANT_ADMIN)
    view = client.get(reverse("user_view", args=["123"])).content.decode()
    counted = int(re.search(rf'id="count-{name}">(\d+)<', view).group(1))
    listed = shown(client.get(kind.list_url, {"user_id": "123"}).content.decode(), name)
    assert listed == keys(name, ACTIVE)
    assert counted == len(listed)


def test_home_links_open_lists_that_agree_with_their_counts(client, tenant_a, state):
    login(client, tenant_a, Role.AUDITOR)
    home = client.get(reverse("home")).content.decode()
    for name in STATE_KINDS:
        kind = registry.get(name)
        count = int(re.search(rf'data-kind="{name}">(\d+)<', home).group(1))
        link = re.search(
            rf'href="({re.escape(kind.list_url)}[^"]*)"[^>]*>\s*<div class="card-body">\s*'
            rf"<div[^>]*>{kind.label}<",
            home,
        )
        page = client.get(link.group(1).replace("&amp;", "&")).content.decode()
        assert len(shown(page, name)) == count == 3  # created in the last 24 hours, any status
    active = re.search(r'href="([^"]*)">Active sessions</a>', home).group(1).replace("&amp;", "&")
    assert shown(client.get(active).content.decode(), "sessions") == keys("sessions", ACTIVE)


def test_the_default_is_declared_by_the_kind():
    assert registry.get("sessions").default_preset == registry.get("grants").default_preset == "all"
    assert dict(registry.get("sessions").default_filters) == {"status": ("active",)}
    assert registry.get("events").default_preset == "last7" and not registry.get("events").default_filters
