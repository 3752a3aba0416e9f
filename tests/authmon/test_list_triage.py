"""Incident triage on the list page (issue 22): ``refresh`` (auto-refresh) selects nothing and is never an error, and
``console=hide`` leaves out the console's own rows on the page, in its exports and in export jobs, in one tenant
only, for the kinds that declare them (LogKind.console_rows)."""

from __future__ import annotations

import json
import re

import pytest
from django.http import QueryDict
from django.urls import reverse

from authmon import exports, registry
from authmon.auditing import CONSOLE_CLIENT
from authmon.models import Role
from authmon.selectors import log_search
from jobs.models import JobLog
from tests.authmon.test_log_views import login
from tests.conftest import PASSWORD, make_user
from tests.samples import sample_record

pytestmark = pytest.mark.django_db

# The field each kind marks its console rows by, as its apps.py declares it.
CONSOLE_FIELD = {"audit": "client_actor", "events": "client_name"}


def _pair(kind_name, tenant, marker="triage"):
    """One row the console wrote and one it did not, in ``tenant``."""
    kind = registry.get(kind_name)
    field = CONSOLE_FIELD[kind_name]
    console = sample_record(kind, tenant, f"{marker}-console", **{field: CONSOLE_CLIENT})
    other = sample_record(kind, tenant, f"{marker}-idp", **{field: "Acme Portal"})
    return console, other


def _marker(record) -> str:
    """A text unique to the record that every list shows (its first text cell carries the sample's marker)."""
    kind = registry.for_model(type(record))
    return str(getattr(record, "email" if kind.name == "events" else "actor"))


def _chips(body: str) -> list[str]:
    return re.findall(r'aria-label="Remove filter ([^"]+)"', body)


# ---- refresh ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["30", "90", "soon", "0", "-5", "1" * 5000, "²", "00", "3e5"])
def test_refresh_selects_nothing_and_is_never_an_error(client, tenant_a, value):
    events = registry.get("events")
    rows = [sample_record(events, tenant_a, f"fresh{i}") for i in range(3)]
    login(client, tenant_a, Role.AUDITOR)
    plain = client.get(events.list_url, {"preset": "last24h"})
    with_refresh = client.get(events.list_url, {"preset": "last24h", "refresh": value})
    assert with_refresh.status_code == 200
    assert [r.pk for r in with_refresh.context["page"].rows] == [r.pk for r in plain.context["page"].rows]
    assert {r.pk for r in rows} == {r.pk for r in plain.context["page"].rows}
    search = with_refresh.context["search"]
    assert search.errors == [] and [c.text for c in search.chips] == [c.text for c in plain.context["search"].chips]
    assert "refresh" not in " ".join(_chips(with_refresh.content.decode())).lower()


@pytest.mark.parametrize(
    "value,checked,interval",
    [
        ("", False, 30),
        ("30", True, 30),
        ("90", True, 90),
        ("3", True, 10),
        ("99999", True, 3600),
        ("9" * 5000, True, 3600),
        ("0030", True, 30),
        ("x", False, 30),
        ("²", False, 30),
    ],
)
def test_the_refresh_switch_is_rendered_from_the_url(client, tenant_a, value, checked, interval):
    events = registry.get("events")
    login(client, tenant_a, Role.AUDITOR)
    body = client.get(events.list_url, {"refresh": value} if value else {}).content.decode()
    switch = re.search(r'<input[^>]*id="auto-refresh"[^>]*>', body).group(0)
    assert 'name="refresh"' in switch and f'value="{interval}"' in switch
    assert (" checked" in switch) is checked
    assert f"Auto-refresh every {interval} s" in body


def test_refresh_is_kept_out_of_an_exports_filters(client, tenant_a):
    events = registry.get("events")
    sample_record(events, tenant_a, "kept")
    login(client, tenant_a, Role.TENANT_ADMIN)
    response = client.get(events.export_url, {"format": "json", "refresh": "30", "preset": "last24h"})
    header = json.loads(b"".join(response.streaming_content))["header"]
    assert header["filters"] == {"preset": "last24h"}
    assert exports.filters_of([("refresh", ["30"]), ("console", ["hide"])]) == {"console": "hide"}


# ---- console activity ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind_name", sorted(CONSOLE_FIELD))
def test_console_rows_are_hidden_on_request_and_shown_by_default(client, tenant_a, kind_name):
    kind = registry.get(kind_name)
    console, other = _pair(kind_name, tenant_a)
    login(client, tenant_a, Role.AUDITOR)
    shown = client.get(kind.list_url).content.decode()
    assert _marker(console) in shown and _marker(other) in shown
    assert "Console activity hidden" not in shown
    response = client.get(kind.list_url, {"console": "hide"})
    hidden = response.content.decode()
    assert _marker(console) not in hidden and _marker(other) in hidden
    assert "Console activity hidden" in _chips(hidden)
    remove = re.search(r'href="([^"]*)"[^>]*aria-label="Remove filter Console activity hidden"', hidden).group(1)
    assert "console" not in remove
    assert re.search(r'id="console-hide"[^>]*checked', hidden)


def test_the_console_switch_is_offered_only_where_the_console_writes_rows(client, tenant_a):
    login(client, tenant_a, Role.SUPER_ADMIN)
    for kind in registry.kinds():
        body = client.get(kind.list_url).content.decode()
        assert ('id="console-hide"' in body) is (kind.console_rows is not None), kind.name
        assert 'id="auto-refresh"' in body, kind.name  # auto-refresh is generic: every kind offers it
    assert {k.name for k in registry.kinds() if k.console_rows is not None} == set(CONSOLE_FIELD)


def test_a_kind_without_console_rows_ignores_the_parameter(client, tenant_a):
    jobs = registry.get("jobs")
    row = sample_record(jobs, tenant_a, "jobrow")
    login(client, tenant_a, Role.TENANT_ADMIN)
    response = client.get(jobs.list_url, {"console": "hide"})
    assert row.pk in {r.pk for r in response.context["page"].rows}
    assert response.context["search"].errors == [] and "Console activity hidden" not in response.content.decode()


def test_an_unknown_console_choice_is_reported_and_hides_nothing(client, tenant_a):
    events = registry.get("events")
    console, _other = _pair("events", tenant_a)
    login(client, tenant_a, Role.AUDITOR)
    response = client.get(events.list_url, {"console": "banana"})
    assert console.pk in {r.pk for r in response.context["page"].rows}
    assert any("console=hide" in error for error in response.context["search"].errors)


def test_the_consoles_own_sign_in_is_what_it_hides(client, tenant_a):
    """The kinds' declarations match what the console writes: a real sign-in's event and audit record are hidden."""
    user = make_user(tenant_a, Role.TENANT_ADMIN, "morning@acme.example")
    assert client.post(reverse("login"), {"username": user.email, "password": PASSWORD}).status_code == 302
    for name, field in CONSOLE_FIELD.items():
        kind = registry.get(name)
        written = kind.model.objects.filter(tenant=tenant_a, **{field: CONSOLE_CLIENT})
        assert written.exists(), name
        assert set(log_search(kind, user, QueryDict()).queryset) >= set(written), name
        assert not set(log_search(kind, user, QueryDict("console=hide")).queryset) & set(written), name


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("kind_name", sorted(CONSOLE_FIELD))
def test_an_export_hides_what_the_page_hides(client, tenant_a, kind_name, fmt):
    kind = registry.get(kind_name)
    console, other = _pair(kind_name, tenant_a)
    login(client, tenant_a, Role.SUPER_ADMIN)  # the one role that may export every kind
    response = client.get(kind.export_url, {"format": fmt, "console": "hide", "refresh": "30"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert _marker(other) in body and _marker(console) not in body
    if fmt == "json":
        data = json.loads(body)
        assert data["header"]["filters"] == {"console": "hide"}
        assert {r["id"] for r in data["records"]} == {other.pk}
    page_body = client.get(kind.list_url, {"console": "hide"}).content.decode()
    assert 'name="console" value="hide"' in page_body  # the export form carries the page's choice


def test_an_export_job_reads_the_same_choice(client, tenant_a, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.AUTHMON_EXPORT_DIR = tmp_path
    events = registry.get("events")
    _console, other = _pair("events", tenant_a)
    login(client, tenant_a, Role.TENANT_ADMIN)
    url = f"{events.export_url}?format=json&limit={exports.SYNC_EXPORT_MAX + 1}&console=hide&refresh=30"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
    job = JobLog.objects.get(tenant=tenant_a, job_type="export")
    assert job.latest_status == "success", job.stacktrace
    data = json.loads(b"".join(client.get(reverse("jobs:joblog_download", args=[job.pk])).streaming_content))
    assert [r["id"] for r in data["records"]] == [other.pk]
    assert data["header"]["filters"] == {"console": "hide"}


def test_other_tenants_are_unaffected(client, tenant_a, tenant_b):
    events = registry.get("events")
    _mine_console, mine_other = _pair("events", tenant_a, "mine")
    theirs_console, theirs_other = _pair("events", tenant_b, "theirs")
    login(client, tenant_a, Role.AUDITOR)
    for params in ({}, {"console": "hide"}, {"console": "hide", "refresh": "30"}):
        shown = {r.pk for r in client.get(events.list_url, params).context["page"].rows}
        assert not shown & {theirs_console.pk, theirs_other.pk}
    assert {r.pk for r in client.get(events.list_url, {"console": "hide"}).context["page"].rows} == {mine_other.pk}
    # The choice lives in the URL, not with a user or a tenant: the other tenant's list is as it was.
    client.logout()
    login(client, tenant_b, Role.AUDITOR)
    assert {r.pk for r in client.get(events.list_url).context["page"].rows} == {theirs_console.pk, theirs_other.pk}
