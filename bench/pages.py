"""List pages through the whole Django stack, beside the raw SQL of their query and beside the Django admin.

For every registered kind, as the tenant admin of the first tenant: the default view's first page, the page 1,000
pages deep (a keyset cursor 49,950 rows deep, all time), and the quick search (all time) with a term taken from the
data. Each is timed through ``django.test.Client`` (middleware, view, template: the server's time without the
network), its main list query is captured with its parameters and replayed on a raw cursor, and the same page of
the bench-only Django admin (``bench/admin_site.py``, as a superuser, filtered to the same tenant, 50 rows a page)
is timed as the baseline.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.harness import Bench, ms, raw_sql, sample, say

PER_PAGE = 50
DEPTH = 49_950  # page 1,000 of 50 rows
PAGE_P95_MS = 50.0
SEARCH_P95_MS = 300.0
ADMIN_FACTOR = 10.0
CURSOR_REFUSED = ("no longer valid", "sort order changed")


def cursor_at(kind: Any, tenant: Any, depth: int) -> str:
    """A next-page cursor for the page that starts ``depth`` rows deep in the all-time, newest-first list."""
    from authmon import paging

    time_field = kind.model._meta.get_field(kind.time_field)
    ordered = kind.model.objects.for_tenant(tenant).order_by(f"-{kind.time_field}", "-pk")
    anchor = ordered[depth - 1]
    return paging._encode(time_field, anchor, f"-{kind.time_field}", depth, "n")


def cursor_check(kind: Any, user: Any, params: dict[str, str], depth: int) -> None:
    """Fail loudly when authmon's own paging does not take the cursor to ``depth`` with rows on the page."""
    from django.http import QueryDict

    from authmon.paging import paginate
    from authmon.selectors import log_search

    query = QueryDict(mutable=True)
    query.update(params)
    search = log_search(kind, user, query)
    page = paginate(search.queryset, sort=search.sort, cursor=params["cursor"], per_page=PER_PAGE)
    if page.offset != depth or not page.rows:
        raise RuntimeError(f"{kind.name}: the cursor gave offset {page.offset} and {len(page.rows)} rows, not {depth}")


def search_term(kind: Any, tenant: Any, total: int) -> str:
    """A term of the kind's quick search that matches some rows: a person's e-mail name, else a word of a value."""
    by_name = {s.partition("__")[0]: s for s in kind.search_fields}
    spec = next((by_name[f] for f in kind.person_fields if f in by_name), kind.search_fields[0])
    name, _, lookup = spec.partition("__")
    ordered = kind.model.objects.for_tenant(tenant).order_by(f"-{kind.time_field}", "-pk")
    value = str(ordered.values_list(name, flat=True)[total // 2] or "")
    if lookup in {"exact", "iexact"}:
        return value
    words = [w for w in re.split(r"[^0-9A-Za-z]+", value.split("@")[0]) if len(w) >= 3] or [value]
    return max(words, key=len)


class Statements:
    """Records every statement run on the connection (with its parameters) while installed as an execute wrapper.

    Used instead of ``CaptureQueriesContext``, whose slice of ``connection.queries`` comes out empty when a request
    resets the log (``request_started``) after other statements were logged.
    """

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.seen.append((sql, params))
        return execute(sql, params, many, context)


def main_query(statements: list[tuple[str, Any]], table: str) -> tuple[str, Any]:
    """The page's list query: the one that reads the kind's table with a LIMIT."""
    for sql, params in statements:
        if f'FROM "{table}"' in sql and "LIMIT" in sql:
            return sql, params
    raise RuntimeError(f"no list query on {table} among the page's {len(statements)} statements")


def verdict(p95: float, budget: float, ratio: float | None) -> str:
    return "met" if p95 < budget and (ratio is None or ratio >= ADMIN_FACTOR) else "missed"


BENCH_APP_ROLE = "authmon_bench_app"


def app_role_prepare() -> str:
    """The role the pages are timed as: no login, the app role's grants (authmon.dbroles), so row-level security
    applies to every query the pages make, as in production (DESIGN section 4)."""
    from django.db import connection

    from authmon.dbroles import grant_app_role

    with connection.cursor() as cursor:
        cursor.execute(
            f"DO $$ BEGIN CREATE ROLE {BENCH_APP_ROLE} NOLOGIN; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
        grant_app_role(cursor, BENCH_APP_ROLE)
    return BENCH_APP_ROLE


@contextmanager
def as_role(role: str | None) -> Iterator[None]:
    from django.db import connection

    if role is None:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {role}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def run(bench: Bench) -> None:
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from authmon import registry

    say("\npages (p50 / p95 of server time through django.test.Client)")
    tenant = bench.tenants[0]
    client, admin_client = Client(), Client()
    client.force_login(bench.admin)
    admin_client.force_login(bench.superadmin)
    repeat = bench.args.repeat
    admin_repeat = max(3, repeat // 3)

    role = None if bench.args.as_superuser else app_role_prepare()
    say(f"  as {role or 'the superuser (no row-level security)'}")

    def get(c: Client, url: str, params: dict[str, str]) -> Any:
        with as_role(role):
            response = c.get(url, params)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} {params}: HTTP {response.status_code}")
        return response

    for kind in registry.kinds():
        table = kind.model._meta.db_table
        url = kind.list_url
        opts = kind.model._meta
        admin_url = reverse(f"bench_admin:{opts.app_label}_{opts.model_name}_changelist")
        total = kind.model.objects.for_tenant(tenant).count()
        if total == 0:
            say(f"  {kind.name}: no rows in {tenant.slug}; skipped")
            continue
        depth = min(DEPTH, (total - 1) // PER_PAGE * PER_PAGE)
        term = search_term(kind, tenant, total)
        scope = {"tenant__id__exact": str(tenant.pk)}
        cases = [
            ("default view, page 1", {}, {}, PAGE_P95_MS, True),
        ]
        if depth > 0:
            deep = {"preset": "all", "cursor": cursor_at(kind, tenant, depth)}
            cursor_check(kind, bench.admin, deep, depth)
            cases.append((f"page {depth // PER_PAGE + 1:,} (all time, keyset)", deep, {"p": str(depth // PER_PAGE)},
                          PAGE_P95_MS, True))  # fmt: skip
        cases.append((f"search '{term}' (all time)", {"preset": "all", "search": term}, {"q": term}, SEARCH_P95_MS,
                      False))  # fmt: skip
        for what, params, admin_params, budget, compare in cases:
            queries = Statements()
            with connection.execute_wrapper(queries):
                response = get(client, url, params)
            text = response.content.decode()
            if any(message in text for message in CURSOR_REFUSED):
                raise RuntimeError(f"{kind.name} {what}: the page refused its cursor")
            admin_text = get(admin_client, admin_url, {**scope, **admin_params}).content.decode()
            if text.count("<tr") < 2 or admin_text.count("<tr") < 2:
                raise RuntimeError(f"{kind.name} {what}: the page or the admin's changelist shows no rows")
            sql, sql_params = main_query(queries.seen, table)
            authmon = sample(lambda u=url, p=params: get(client, u, p), repeat)
            raw = sample(lambda s=sql, p=sql_params: raw_sql(s, p), repeat)
            admin_query = {**scope, **admin_params}
            admin = sample(lambda u=admin_url, p=admin_query: get(admin_client, u, p), admin_repeat)
            ratio = admin[1] / authmon[1] if authmon[1] else 0.0
            target = f"p95 < {budget:.0f} ms" + (f", >= {ADMIN_FACTOR:.0f}x admin" if compare else "")
            bench.record(
                "pages",
                f"{kind.name}: {what}",
                f"{ms(authmon)} (raw SQL {ms(raw)})",
                baseline=f"admin {ms(admin)} ({ratio:,.1f}x)",
                target=target,
                verdict=verdict(authmon[1], budget, ratio if compare else None),
                note=f"{len(queries.seen)} queries per page; admin repeat {admin_repeat}",
                p50_ms=authmon[0],
                p95_ms=authmon[1],
                raw_p50_ms=raw[0],
                raw_p95_ms=raw[1],
                admin_p50_ms=admin[0],
                admin_p95_ms=admin[1],
                admin_ratio=ratio,
                queries=len(queries.seen),
            )
