"""The throwaway kind walked through everything a kind gets (run by tests/test_new_kind.py, in its own process)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from django.urls import reverse
from django.utils import timezone

from authmon import registry
from authmon.models import Role
from authmon.retention import retention_days
from authmon.trim import tenant_trim
from console.demo import demo_data_load
from tests.api.conftest import make_client
from tests.conftest import PASSWORD, make_user
from tests.kindkit.models import DeviceLog

KIND = "devices"


def signed_in(client, tenant, role=Role.TENANT_ADMIN):
    user = make_user(tenant, role, f"{role}-{tenant.slug}@kindkit.test")
    assert client.login(username=user.email, password=PASSWORD)
    return user


def device(tenant, name, *, days_ago=0, platform="linux"):
    return DeviceLog.objects.create(
        tenant=tenant,
        device_name=name,
        email="ada@example.com",
        platform=platform,
        seen_at=timezone.now() - dt.timedelta(days=days_ago, hours=1),
    )


def test_the_kind_is_registered_from_this_package_alone():
    kind = registry.get(KIND)
    assert kind.model is DeviceLog
    assert (kind.label, kind.time_field) == ("Device Logs", "seen_at")
    assert [k.name for k in registry.kinds()][-1] == KIND  # menu order 70, after the six kinds


def test_list_details_and_tenant_isolation(client, tenant_a, tenant_b):
    own, other = device(tenant_a, "laptop-17"), device(tenant_b, "laptop-99")
    signed_in(client, tenant_a)
    page = client.get(reverse("devices:devicelog_list"))
    assert page.status_code == 200
    assert b"laptop-17" in page.content and b"laptop-99" not in page.content
    assert b"Device Logs" in client.get(reverse("home")).content  # in the menu
    assert client.get(reverse("devices:devicelog_detail", args=[own.pk])).status_code == 200
    assert client.get(reverse("devices:devicelog_detail", args=[other.pk])).status_code == 404


def test_a_question_filters_by_the_kinds_own_fields(client, tenant_a):
    device(tenant_a, "laptop-17", platform="macos")
    device(tenant_a, "build-box", platform="linux")
    signed_in(client, tenant_a)
    page = client.get(reverse("devices:devicelog_list"), {"q": "mac devices seen this week"})
    assert page.status_code == 200
    assert b"laptop-17" in page.content and b"build-box" not in page.content
    assert b"platform" in page.content.lower()  # the interpretation names the field


def test_csv_export_holds_the_selected_rows(client, tenant_a, tenant_b):
    device(tenant_a, "laptop-17")
    device(tenant_b, "laptop-99")
    signed_in(client, tenant_a)
    response = client.get(reverse("devices:devicelog_export"), {"format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    names = [row[0] for row in rows[1:]]
    assert names == ["laptop-17"]


def test_api_ingest_then_read(tenant_a, tenant_b):
    api = make_client(tenant_a, ["ingest", "read"])
    record = {
        "external_id": "dev-1",
        "device_name": "phone-3",
        "email": "ada@example.com",
        "platform": "windows",
        "seen_at": "2026-11-19T08:00:00Z",
        "details": {"model": "x"},
    }
    created = api.ingest(KIND, [record])
    assert created.status_code == 201, created.content
    again = api.ingest(KIND, [record])  # idempotent by external_id
    assert again.status_code == 201
    assert DeviceLog.objects.filter(tenant=tenant_a).count() == 1
    assert api.ingest(KIND, [{**record, "external_id": "dev-2", "platform": "beos"}]).status_code == 400
    listed = api.list(KIND).json()
    assert [r["device_name"] for r in listed["results"]] == ["phone-3"]
    assert make_client(tenant_b, ["read"]).list(KIND).json()["results"] == []


def test_retention_page_and_trim(client, tenant_a):
    assert retention_days(tenant_a, KIND) == 30  # the kind's default, with no column anywhere
    signed_in(client, tenant_a, Role.SUPER_ADMIN)
    form = client.get(reverse("retention"))
    assert b"Device Logs" in form.content
    data = {k.name: retention_days(tenant_a, k) for k in registry.kinds()} | {KIND: 10}
    preview = client.post(reverse("retention"), data)  # shorter: shown for confirmation first
    assert retention_days(tenant_a, KIND) == 30 and b'data-kind="devices"' in preview.content
    confirm = re.search(r'name="confirm" value="([^"]+)"', preview.content.decode()).group(1)
    assert client.post(reverse("retention"), data | {"confirm": confirm}).status_code == 302
    assert retention_days(tenant_a, KIND) == 10
    old, young = device(tenant_a, "old", days_ago=20), device(tenant_a, "young", days_ago=2)
    report = tenant_trim(tenant=tenant_a)
    assert report.deleted[KIND] == 1
    assert list(DeviceLog.objects.values_list("pk", flat=True)) == [young.pk]
    assert old.pk != young.pk


def test_demo_data_holds_the_kinds_own_records(db):
    """``load_demo_data`` finds the kind's demo builder through the registry."""
    demo_data_load(tenants=1, rows=2_000, seed=5)
    assert DeviceLog.objects.filter(device_name="guide-laptop").count() == 1
    assert DeviceLog.objects.count() >= 50  # about its share (5%) of the tenant's rows
