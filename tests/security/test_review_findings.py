"""What an attacker's review of the issue-14 fixes found, each written as the attack (failing before its fix).

- dates beyond what a time zone can express, and sort keys with extra dashes, were 500s on list, export and insights;
- an ingested "running" job kept itself, and its whole month partition, past retention for ever;
- a 4,301-digit token id was a 500 on the API tokens page;
- a link planted as a tenant's directory of the file store sent its files elsewhere;
- two restores of one tenant could start at the same moment.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from authmon import filestore, registry
from authmon.daterange import custom_range
from authmon.models import Role
from authmon.trim import tenant_trim
from jobs.models import JobLog
from tests.api.conftest import make_client
from tests.authmon.test_log_views import login
from tests.samples import retain

FAR = [
    {"start": "0001-01-01T00:00:00+14:00"},
    {"end": "9999-12-31T23:59:59-14:00"},
    {"start": "9999-12-31T23:59:59-14:00"},
    {"start": "0001-01-01"},
    {"end": "9999-12-31"},
]


@pytest.mark.parametrize("params", FAR)
@pytest.mark.parametrize("page", ["list", "export", "insights"])
def test_dates_beyond_the_calendar_are_a_message_not_a_500(client, tenant_a, params, page):
    login(client, tenant_a, Role.TENANT_ADMIN)  # Europe/Berlin: east of UTC, so year 1 midnight is year 0 in UTC
    events = registry.get("events")
    url = {"list": events.list_url, "export": events.export_url, "insights": reverse("insights:overview")}[page]
    response = client.get(url, {**params, "format": "csv"}, follow=True)
    assert response.status_code == 200
    assert "out of range" in response.content.decode()


def test_a_bare_end_date_includes_that_whole_day_and_from_equal_to_is_one_day():
    tz = dt.UTC
    day = custom_range("2026-11-20", "2026-11-20", tz=tz)  # refused before as "end before start"
    assert day.start == dt.datetime(2026, 11, 20, tzinfo=tz)
    assert day.end == dt.datetime(2026, 11, 21, tzinfo=tz)
    assert custom_range("", "2026-11-20T10:00", tz=tz).end == dt.datetime(2026, 11, 20, 10, 0, tzinfo=tz)


@pytest.mark.parametrize("sort", ["--created_on", "---created_on", "-" * 500 + "created_on"])
def test_a_sort_with_extra_dashes_is_refused_on_list_and_export(client, tenant_a, sort):
    login(client, tenant_a, Role.TENANT_ADMIN)
    events = registry.get("events")
    page = client.get(events.list_url, {"sort": sort})
    assert page.status_code == 200 and "Cannot sort by" in page.content.decode()
    export = client.get(events.export_url, {"sort": sort, "format": "csv"}, follow=True)
    assert export.status_code == 200 and "Cannot sort by" in export.content.decode()


def test_an_ingested_running_job_does_not_escape_retention(tenant_a):
    old = "2020-01-01T00:00:00Z"
    records = [
        {
            "job_id": f"j{n}",
            "job_name": "sync",
            "job_type": "sync",
            "latest_status": status,
            "message": "",
            "created_at": old,
            "updated_at": old,
        }
        for n, status in enumerate(["running", "pending", "success"])
    ]
    assert make_client(tenant_a, ["ingest"]).ingest("jobs", records).status_code == 201
    retain(tenant_a, jobs=30)
    tenant_trim(tenant=tenant_a)
    assert not JobLog.objects.for_tenant(tenant_a).exists(), "a record saying 'running' is data, not a run"


def test_a_console_run_still_in_progress_is_kept(tenant_a):
    from jobs.runner import job_create

    job = job_create(tenant=tenant_a, job_name="events export", job_type="export")
    JobLog.objects.filter(pk=job.pk).update(latest_status="running", created_at=timezone.now() - dt.timedelta(days=400))
    retain(tenant_a, jobs=30)
    tenant_trim(tenant=tenant_a)
    assert JobLog.objects.filter(pk=job.pk).exists()


def test_a_huge_token_id_is_no_500(client, tenant_a, super_admin):
    from authmon.api_tokens import TokenNotFound, api_token_find

    client.force_login(super_admin)
    assert client.get(reverse("api_tokens"), {"confirm": "1" * 5000}).status_code == 200
    with pytest.raises(TokenNotFound):
        api_token_find(tenant=tenant_a, handle="#" + "1" * 5000)


def test_a_link_planted_as_a_tenant_directory_is_refused(settings, tmp_path):
    settings.AUTHMON_EXPORT_DIR = tmp_path / "exports"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "tenant-7").symlink_to(elsewhere)
    with pytest.raises(filestore.StoreError), filestore.file_write("export", 7, "json") as (out, _place):
        out.write("{}")
    assert list(elsewhere.iterdir()) == []


def test_a_second_restore_cannot_start_while_one_is_pending(tenant_a, super_admin, settings, tmp_path):
    from console.runs import RestoreBusy, restore_start

    settings.AUTHMON_EXPORT_DIR = tmp_path
    audit = registry.get("audit")
    args = {"kind": audit, "user": super_admin, "tenant": tenant_a, "file_name": "a.json", "size": 2}
    restore_start(**args, chunks=[b"{}"])
    with pytest.raises(RestoreBusy):
        restore_start(**args, chunks=[b"{}"])
    assert JobLog.objects.for_tenant(tenant_a).filter(job_type="import").count() == 1
