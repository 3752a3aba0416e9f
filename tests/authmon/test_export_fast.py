"""The fast export paths give exactly what the straightforward ones gave.

CSV cells are computed once per column plan instead of through django-tables2's ``BoundRow`` per cell, and JSON
records are read as tuples instead of models; here both are compared with the straightforward computation on varied
records of every kind, and the keyset reading used behind a transaction-mode pooler with the server-side cursor.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import django_tables2 as tables
import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tables2.rows import BoundRow

from authmon import exports, registry
from authmon.restore import archive_restore, archive_verify
from tests.samples import sample_record

TEXTS = ["=SUM(A1:A9)", "+1", "-2", "@cmd", "\tTab", "\rCR", "Zoë ✓ 日本語", 'quote "x", comma', "plain"]
JSONS: list[Any] = [
    {"ü": "ß", "n": [1, 2.5, None, {"z": 1e-7, "a": True}], "b": {"y": 0.1, "x": "=1"}},
    [],
    {},
    "=HYPERLINK(x)",
    [1, "two", {"3": None}],
]
ZONE = "Asia/Kolkata"  # +05:30: a zone whose offset is not whole hours


def varied_records(kind: registry.LogKind, tenant: Any, count: int = 12) -> None:
    """``count`` records of ``kind`` covering each choice, None where allowed, JSON, unicode and formula text."""
    now = timezone.now().replace(microsecond=123456)
    for i in range(count):
        values: dict[str, Any] = {}
        for field in kind.data_fields:
            if not field.editable or field.name == "external_id":
                continue
            if field.null and i % 4 == 3:
                values[field.name] = None
            elif field.choices:
                values[field.name] = field.choices[i % len(field.choices)][0]
            elif isinstance(field, models.DateTimeField):
                shift = dt.timedelta(days=1 if i % 2 else -1) if field.name == "expires_at" else -dt.timedelta(hours=i)
                values[field.name] = now + shift
            elif isinstance(field, models.JSONField):
                values[field.name] = JSONS[i % len(JSONS)]
            elif isinstance(field, models.GenericIPAddressField):
                values[field.name] = "2001:db8::1" if i % 2 else "198.51.100.7"
            elif isinstance(field, (models.CharField, models.TextField)):
                values[field.name] = f"{TEXTS[i % len(TEXTS)]} {i}"[: field.max_length or 200]  # unique ids
        sample_record(kind, tenant, f"v{i}", **values)


def all_columns(table_class: Any) -> list[tuple[str, str]]:
    table = table_class([])
    return [(c.name, str(c.header)) for c in table.columns if not c.column.exclude_from_export]


def reference_csv(table_class: Any, queryset: Any, columns: list[tuple[str, str]]) -> str:
    """What the CSV export produced through django-tables2's own per-cell machinery."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([exports.neutralise(header) for _, header in columns])
    table = table_class([])
    for obj in queryset:
        row = BoundRow(obj, table=table)
        writer.writerow([exports.neutralise(row.get_cell_value(name)) for name, _ in columns])
    return "\ufeff" + buffer.getvalue()


def reference_records(kind: registry.LogKind, queryset: Any) -> str:
    """The records part of a JSON export as the model-based serialisation gave it."""
    lines = [
        json.dumps(exports.serialize_record(kind, obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        for obj in queryset.select_related("tenant")
    ]
    return '"records": [\n' + ",\n".join(lines) + '\n],\n"seal"'


def ordered(kind: registry.LogKind, tenant: Any) -> Any:
    return kind.model.objects.for_tenant(tenant).order_by(f"-{kind.time_field}", "-pk")


@pytest.mark.parametrize("kind_name", [k.name for k in registry.kinds()])
def test_fast_csv_equals_bound_row_cells(tenant_a, kind_name):
    kind = registry.get(kind_name)
    varied_records(kind, tenant_a)
    columns = all_columns(kind.table)
    queryset = ordered(kind, tenant_a)
    with timezone.override(ZONE):
        fast = "".join(exports.stream_csv(kind.table, queryset, columns=columns, limit=1000))
        expected = reference_csv(kind.table, queryset, columns)
    assert fast == expected
    rows = list(csv.reader(io.StringIO(fast.removeprefix("\ufeff"))))
    assert len(rows) == 13
    assert any(cell.startswith("'=") for row in rows for cell in row), "formula text must be neutralised"


class OddColumn(tables.Column):
    """A column whose export value wants the bound row: only django-tables2 itself can give that."""

    def value(self, bound_row: Any, value: Any) -> str:
        return f"{bound_row.record.pk}:{value}"


class CatchAllColumn(tables.Column):
    def value(self, **kwargs: Any) -> str:
        return f"{kwargs['record'].pk}/{kwargs['value']}"


def test_fast_csv_follows_table_methods_and_odd_columns(tenant_a):
    """value_<name> before render_<name> before the column's value(); arguments as each signature asks."""
    kind = registry.get("events")
    base = kind.table

    class Table(base):
        odd = OddColumn(accessor="username")
        catch_all = CatchAllColumn(accessor="email")
        ghost = tables.Column(accessor="no_such_attribute", empty_values=())
        needy = tables.Column(accessor="username")
        label = tables.Column(accessor="event_type")

        def value_username(self, value: Any, record: Any) -> str:
            return f"{value}@{record.pk}"

        def render_email(self, value: Any) -> str:
            return value.upper()

        def render_needy(self, value: Any, unknown: Any) -> str:  # never called: django-tables2 has no `unknown`
            return "called"

        class Meta(base.Meta):
            sequence = (*base.Meta.fields, "...")

    varied_records(kind, tenant_a)
    columns = all_columns(Table)
    queryset = ordered(kind, tenant_a)
    with timezone.override(ZONE):
        fast = "".join(exports.stream_csv(Table, queryset, columns=columns, limit=1000))
        assert fast == reference_csv(Table, queryset, columns)
    header = next(csv.reader(io.StringIO(fast.removeprefix("\ufeff"))))
    assert {"Odd", "Catch all", "Ghost", "Needy", "Label"} <= set(header)


@pytest.mark.parametrize("kind_name", [k.name for k in registry.kinds()])
def test_fast_json_is_byte_identical_and_verifies(tenant_a, kind_name):
    kind = registry.get(kind_name)
    varied_records(kind, tenant_a)
    queryset = ordered(kind, tenant_a)
    raw = "".join(exports.stream_json(kind, queryset, tenant_slug=tenant_a.slug, filters={}, limit=1000))
    assert reference_records(kind, queryset) in raw
    data = json.loads(raw)
    assert data["header"]["count"] == 12
    if kind.name == "audit":
        kind.model.objects.filter(pk__in=[r["id"] for r in data["records"]]).purge_expired()
        assert archive_restore(raw=raw.encode(), tenant=tenant_a).created == 12
    else:
        assert archive_verify(data, tenant=tenant_a, kind_name=kind.name)[1] == data["records"]


def test_canonical_is_json_dumps():
    value = {"b": [1.5, None, "Zoë"], "a": {"y": 1e-7, "x": True}}
    assert exports.canonical(value) == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.fixture
def no_server_side_cursors(monkeypatch):
    """What settings say behind a transaction-mode pooler; chunks of 3 rows so a few records span many."""
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)
    monkeypatch.setattr(exports, "CHUNK", 3)


@pytest.mark.parametrize("sort", ["-created_on", "created_on", "-username"])
def test_keyset_chunks_are_complete_and_in_order_with_ties(tenant_a, no_server_side_cursors, sort):
    kind = registry.get("events")
    same = timezone.now().replace(microsecond=0)
    for i in range(11):  # ties on the sort field in runs longer than a chunk
        sample_record(kind, tenant_a, f"k{i}", when=same - dt.timedelta(minutes=i // 4), username=f"u{i // 5}")
    queryset = kind.model.objects.for_tenant(tenant_a).order_by(sort, "-pk" if sort.startswith("-") else "pk")
    expected = list(queryset.values_list("pk", flat=True))
    assert len(expected) == 11
    with CaptureQueriesContext(connection) as queries:
        raw = "".join(exports.stream_json(kind, queryset, tenant_slug=tenant_a.slug, filters={}, limit=1000))
    assert [r["id"] for r in json.loads(raw)["records"]] == expected
    assert sum("LIMIT 3" in q["sql"] for q in queries.captured_queries) == 4, "one query per chunk of 3"
    limited = "".join(exports.stream_json(kind, queryset, tenant_slug=tenant_a.slug, filters={}, limit=7))
    assert [r["id"] for r in json.loads(limited)["records"]] == expected[:7]
    columns = all_columns(kind.table)
    fast = "".join(exports.stream_csv(kind.table, queryset, columns=columns, limit=1000))
    assert fast == reference_csv(kind.table, queryset, columns)


def test_orderings_keyset_cannot_resume_still_export_everything(tenant_a, no_server_side_cursors):
    """A nullable sort field (NULLs sort outside any range) is read by the plain iterator instead."""
    kind = registry.get("sessions")
    varied_records(kind, tenant_a, count=8)
    queryset = kind.model.objects.for_tenant(tenant_a).order_by("-expires_at", "-pk")
    assert exports._paging_key(queryset) is None
    raw = "".join(exports.stream_json(kind, queryset, tenant_slug=tenant_a.slug, filters={}, limit=1000))
    assert [r["id"] for r in json.loads(raw)["records"]] == list(queryset.values_list("pk", flat=True))
