"""Sessions and grants past expires_at show as expired everywhere, before the cleanup job has stored it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from authmon import registry
from authmon.models import Role
from console.maintenance import expired_access_mark
from sessions_grants.models import AccessStatus, Session, status_q
from sessions_grants.services import user_revoke_all
from tests.authmon.test_log_views import login
from tests.samples import sample_record

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def rows(tenant_a):
    now = timezone.now()
    make = sample_record
    sessions, grants = registry.get("sessions"), registry.get("grants")
    common = {"email": "ann@example.com", "user_id": "77"}
    return {
        "live": make(sessions, tenant_a, "live", status="active", expires_at=now + HOUR, **common),
        "open_ended": make(sessions, tenant_a, "open", status="active", expires_at=None, **common),
        "lapsed": make(sessions, tenant_a, "lapsed", status="active", expires_at=now - HOUR, **common),
        "expired": make(sessions, tenant_a, "expired", status="expired", expires_at=now - HOUR, **common),
        "revoked": make(sessions, tenant_a, "revoked", status="revoked", expires_at=now - HOUR, **common),
        "grant_live": make(grants, tenant_a, "glive", status="active", expires_at=now + HOUR, **common),
        "grant_lapsed": make(grants, tenant_a, "glapsed", status="active", expires_at=now - HOUR, **common),
    }


def test_effective_status(rows):
    assert {name: row.effective_status for name, row in rows.items()} == {
        "live": "active",
        "open_ended": "active",
        "lapsed": "expired",
        "expired": "expired",
        "revoked": "revoked",
        "grant_live": "active",
        "grant_lapsed": "expired",
    }
    assert rows["lapsed"].get_status_display() == "Expired"
    assert rows["lapsed"].status == "active"  # what is stored does not change until the cleanup job runs


@pytest.mark.parametrize(
    "status,expected",
    [
        ("active", {"live", "open_ended"}),
        ("expired", {"lapsed", "expired"}),
        ("revoked", {"revoked"}),
    ],
)
def test_status_q_matches_effective_status(rows, status, expected):
    names = {row.pk: name for name, row in rows.items() if isinstance(row, Session)}
    assert {names[pk] for pk in Session.objects.filter(status_q(status)).values_list("pk", flat=True)} == expected


def test_status_q_agrees_with_the_cleanup_job(rows, tenant_a):
    before = {s: set(Session.objects.filter(status_q(s)).values_list("pk", flat=True)) for s in AccessStatus.values}
    expired_access_mark(tenant=tenant_a)
    after = {s: set(Session.objects.filter(status=s).values_list("pk", flat=True)) for s in AccessStatus.values}
    assert before == after


def test_list_page_shows_and_filters_by_effective_status(client, tenant_a, rows):
    login(client, tenant_a, Role.TENANT_ADMIN)
    sessions = registry.get("sessions")
    response = client.get(sessions.list_url, {"preset": "all"})
    table = response.context["table"]
    shown = {row.record.pk: row.get_cell_value("status") for row in table.rows}
    assert shown[rows["lapsed"].pk] == "expired"
    assert shown[rows["live"].pk] == "active"
    body = response.content.decode()
    assert f"{reverse('sessions:session_detail', args=[rows['lapsed'].pk])}?confirm=revoke" not in body
    assert f"{reverse('sessions:session_detail', args=[rows['live'].pk])}?confirm=revoke" in body

    active = client.get(sessions.list_url, {"preset": "all", "status": "active"}).context["page"].rows
    assert {r.pk for r in active} == {rows["live"].pk, rows["open_ended"].pk}
    expired = client.get(sessions.list_url, {"preset": "all", "status": "expired"}).context["page"].rows
    assert {r.pk for r in expired} == {rows["lapsed"].pk, rows["expired"].pk}
    grants = client.get(registry.get("grants").list_url, {"preset": "all", "status": "active"}).context["page"].rows
    assert {r.pk for r in grants} == {rows["grant_live"].pk}


def test_csv_export_says_expired(client, tenant_a, rows):
    login(client, tenant_a, Role.TENANT_ADMIN)
    response = client.get(registry.get("sessions").export_url, {"format": "csv", "preset": "all"})
    lines = b"".join(response.streaming_content).decode().splitlines()
    lapsed = next(line for line in lines if rows["lapsed"].session_id in line)
    assert ",expired," in lapsed


def test_detail_page_says_expired_and_offers_no_revocation(client, tenant_a, rows):
    login(client, tenant_a, Role.TENANT_ADMIN)
    body = client.get(reverse("sessions:session_detail", args=[rows["lapsed"].pk]), {"confirm": "revoke"})
    text = body.content.decode()
    assert 'id="expired-by-time"' in text
    assert re.search(r'data-field="status">\s*(.*?)\s*</dd>', text, re.S).group(1) == "Expired"
    assert 'id="revoke-button"' not in text and 'id="confirm-revoke"' not in text
    live = client.get(reverse("sessions:session_detail", args=[rows["live"].pk])).content.decode()
    assert 'id="expired-by-time"' not in live and 'id="revoke-button"' in live


def test_user_view_counts_only_unexpired_rows(client, tenant_a, rows):
    login(client, tenant_a, Role.AUDITOR)
    response = client.get(reverse("user_view", args=["ann@example.com"]))
    assert response.context["counts"]["active_sessions"] == 2
    assert response.context["counts"]["active_grants"] == 1


def test_contain_account_leaves_expired_rows_alone(tenant_a, tenant_admin, rows):
    result = user_revoke_all(user="77", actor=tenant_admin, tenant=tenant_a)
    assert {s.pk for s in result.sessions} == {rows["live"].pk, rows["open_ended"].pk}
    assert [g.pk for g in result.grants] == [rows["grant_live"].pk]
    rows["lapsed"].refresh_from_db()
    assert rows["lapsed"].status == "active" and rows["lapsed"].effective_status == "expired"
