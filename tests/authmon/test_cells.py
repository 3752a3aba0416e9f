"""One cell plan serves the page and the CSV export: the two read every column the same way.

The page is held to django-tables2's rendering and the CSV to django-tables2's export values elsewhere; here a column
that shows exactly what it exports must give the same text on the page and in the CSV, for every kind, including a
choice field whose model customises its label; and columns the plan does not model go through django-tables2 itself.
"""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import django_tables2 as tables
import pytest
from django.db import models
from django.template import Context
from django.utils import timezone

from authmon import exports, registry
from authmon.cells import CellPlan
from authmon.tables import LogTable
from tests.authmon.test_export_fast import (
    ZONE,
    CatchAllColumn,
    OddColumn,
    all_columns,
    ordered,
    reference_csv,
    varied_records,
)
from tests.authmon.test_list_features import TABLES2_ROWS


def plain_table(kind: registry.LogKind) -> type[LogTable]:
    """A table of plain columns over the kind's text and choice fields: each shows on the page what it exports."""
    names = [f.name for f in kind.data_fields if f.choices or isinstance(f, (models.CharField, models.TextField))]
    meta = type("Meta", (LogTable.Meta,), {"model": kind.model, "fields": ()})
    columns = {f"plain_{name}": tables.Column(accessor=name, default="") for name in names}
    return type(f"Plain{kind.model.__name__}Table", (LogTable,), {**columns, "Meta": meta})


def page_cells(table: tables.Table) -> list[list[str]]:
    rows = str(table.body_html()).split("\n")
    return [[html.unescape(cell) for cell in re.findall(r"<td [^>]*>(.*?)</td>", row, re.DOTALL)] for row in rows]


def csv_cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))[1:]


@pytest.mark.parametrize("custom_labels", [False, True])
@pytest.mark.parametrize("kind_name", [k.name for k in registry.kinds()])
def test_page_shows_what_the_csv_exports(tenant_a, monkeypatch, kind_name, custom_labels):
    kind = registry.get(kind_name)
    choice_fields = [f.name for f in kind.data_fields if f.choices]
    assert choice_fields or kind_name in {"audit"}, "most kinds have a choice field to check labels on"
    if custom_labels:
        for name in choice_fields:  # a label only the model knows, with markup the page must escape
            monkeypatch.setattr(kind.model, f"get_{name}_display", lambda self, name=name: f"<{getattr(self, name)}>!")
    varied_records(kind, tenant_a)
    table_class = plain_table(kind)
    queryset = ordered(kind, tenant_a)
    columns = all_columns(table_class)
    with timezone.override(ZONE):
        page = page_cells(table_class(list(queryset)))
        exported = csv_cells("".join(exports.stream_csv(table_class, queryset, columns=columns, limit=1000)))
    assert len(page) == len(exported) == 12
    assert [[exports.neutralise(cell) for cell in row] for row in page] == exported
    if custom_labels and choice_fields:
        assert any(cell.startswith("<") and cell.endswith(">!") for row in page for cell in row)


def test_columns_the_plan_does_not_model_render_as_django_tables2_renders_them(tenant_a):
    """A ``bound_row`` or ``**kwargs`` argument, an argument django-tables2 cannot give, a dotted accessor, a link."""
    kind = registry.get("events")
    base = kind.table

    class Table(base):
        odd = OddColumn(accessor="username")
        catch_all = CatchAllColumn(accessor="email")
        ghost = tables.Column(accessor="no_such_attribute", empty_values=())
        needy = tables.Column(accessor="username")
        tenant_name = tables.Column(accessor="tenant__name")
        linked = tables.Column(accessor="username", linkify=lambda record: f"/r/{record.pk}")

        def render_odd(self, bound_row: Any, value: Any) -> str:
            return f"{bound_row.record.pk}<{value}>"

        def render_needy(self, value: Any, unknown: Any) -> str:  # never called: django-tables2 has no `unknown`
            return "called"

        class Meta(base.Meta):
            sequence = (*base.Meta.fields, "...")

    varied_records(kind, tenant_a)
    queryset = ordered(kind, tenant_a)
    with timezone.override(ZONE):
        table = Table(list(queryset))
        # The times' "... ago" can tick between two renderings of these records (their times carry a fixed
        # microsecond, so may be a fraction of a second ahead); the time column is held to django-tables2 elsewhere.
        table.columns.hide("created_on")
        assert str(table.body_html()) == TABLES2_ROWS.render(Context({"table": table})).strip()
        columns = all_columns(Table)
        assert "".join(exports.stream_csv(Table, queryset, columns=columns, limit=1000)) == reference_csv(
            Table, queryset, columns
        )


def test_a_plan_reads_rows_alone_unless_a_column_needs_the_record(tenant_a):
    kind = registry.get("events")
    table = plain_table(kind)([])
    assert not CellPlan(table, model=kind.model).needs_record, "plain fields and choice labels come from the row"
    assert CellPlan(kind.table([]), ["details"]).needs_record, "the details column exports from the record"
