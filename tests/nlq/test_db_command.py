"""``manage.py nlq``: the interpretation and the number of matching records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from authmon.models import Tenant
from events.models import EventLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenants() -> tuple[Tenant, Tenant]:
    acme = Tenant.objects.create(slug="acme", name="Acme", timezone="Europe/Berlin")
    globex = Tenant.objects.create(slug="globex", name="Globex", timezone="America/New_York")
    for tenant in (acme, globex):
        EventLog.objects.create(
            tenant=tenant,
            event_type="login_failed",
            ip_address="10.0.0.4",
            created_on=datetime(2026, 11, 25, 9, tzinfo=UTC),
        )
        EventLog.objects.create(
            tenant=tenant,
            event_type="login_failed",
            ip_address="10.0.0.40",
            created_on=datetime(2026, 11, 25, 9, tzinfo=UTC),
        )
    return acme, globex


def run(*args: str) -> str:
    out = StringIO()
    call_command("nlq", *args, stdout=out)
    return out.getvalue()


def test_prints_the_interpretation_and_the_count(tenants: tuple[Tenant, Tenant]) -> None:
    output = run("events", "failed logins from 10.0.0.4 yesterday", "--now", "2026-11-26T15:30", "--tenant", "acme")
    lines = output.splitlines()
    assert lines[0] == "Question:   failed logins from 10.0.0.4 yesterday"
    assert "created on is between 2026-11-25 00:00 and 2026-11-26 00:00" in lines[1]
    assert lines[2] == "Canonical:  event type is 'login failed' and ip address is 10.0.0.4 and created on is yesterday"
    assert "  [created on: Wed 25 Nov 00:00 – Thu 26 Nov 00:00 (yesterday, calendar day)]" in lines
    assert lines[-1] == "1 matching events (tenant acme)"


def test_without_a_tenant_counts_every_tenant(tenants: tuple[Tenant, Tenant]) -> None:
    assert run("events", "ip is 10.0.0.4").splitlines()[-1] == "2 matching events (all tenants)"


def test_json_and_time_zone(tenants: tuple[Tenant, Tenant]) -> None:
    data = json.loads(run("events", "yesterday", "--now", "2026-11-26T12:00:00Z", "--tz", "America/New_York", "--json"))
    assert data["summary"] == "created on is between 2026-11-25 00:00 and 2026-11-26 00:00"
    assert data["tz"] == "America/New_York" and data["count"] == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope", "x"), "Unknown kind 'nope'"),
        (("events", "evnt type is login"), "Did you mean 'event type'?"),
        (("events", "x", "--tenant", "missing"), "No tenant with slug 'missing'"),
        (("events", "x", "--tz", "Mars/Base"), "Unknown time zone"),
        (("events", "x", "--now", "soon"), "--now must be an ISO date"),
    ],
)
def test_errors(tenants: tuple[Tenant, Tenant], args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args)
