"""A Django admin for every registered record kind: the baseline a team would otherwise use (benchmark only).

One ``ModelAdmin`` per kind, built from the registry as a developer would write it by hand: the list shows the
columns the console's table shows by default, searches the kind's quick-search fields, has a date hierarchy on the
kind's time field, a filter on the tenant and on the first field with choices, and the console's newest-first
order and page size. Everything else stays Django's default (a full ``COUNT(*)`` per page and ``OFFSET`` paging).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from authmon import registry
from authmon.registry import LogKind


class BenchAdminSite(admin.AdminSite):
    site_header = "authmon benchmark admin"


site = BenchAdminSite(name="bench_admin")


def _search_field(spec: str) -> str:
    """The quick search's ``field__lookup`` in the admin's spelling (``=field`` for exact, ``^`` for prefix)."""
    name, _, lookup = spec.partition("__")
    return {"exact": f"={name}", "iexact": f"={name}", "startswith": f"^{name}", "istartswith": f"^{name}"}.get(
        lookup, name
    )


def model_admin_for(kind: LogKind) -> type[admin.ModelAdmin]:
    model_fields = {f.name for f in kind.model._meta.concrete_fields}
    table = kind.table([])
    hidden = set(getattr(table, "hidden_by_default", ()))
    shown = [c.name for c in table.columns.iterall() if c.name in model_fields and c.name not in hidden]
    choice_fields = [f.name for f in kind.model._meta.concrete_fields if f.choices]
    attrs: dict[str, Any] = {
        "list_display": shown or ["pk"],
        "search_fields": [_search_field(spec) for spec in kind.search_fields],
        "date_hierarchy": kind.time_field,
        "list_filter": ["tenant", *choice_fields[:1]],
        "ordering": [f"-{kind.time_field}", "-pk"],
        "list_per_page": 50,  # the console's page size, so ?p=999 is the same 49,950 rows deep as its page 1,000
    }
    return type(f"{kind.model.__name__}BenchAdmin", (admin.ModelAdmin,), attrs)


for _kind in registry.kinds():
    site.register(_kind.model, model_admin_for(_kind))
