"""authmon beside raw SQL on a partitioned events table of millions of rows (PostgreSQL only).

    createdb -h 127.0.0.1 -U postgres authmon_h8bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/authmon_h8bench SECRET_KEY=bench DEBUG=1
    python bench/scale.py --tenants 3 --rows-per-tenant 1000000 [--json bench/scale-results.json]

Migrates, then loads ``--tenants`` tenants of ``--rows-per-tenant`` events each over the last ``--days`` days with
one INSERT ... SELECT generate_series per tenant (into month partitions created first), unless they are there
already. Then measures, each beside the raw SQL of the same work:

- the list's first page (default view: last 7 days, newest 50) and a page ``--depth`` rows deep by keyset cursor
  vs OFFSET, through ``log_search`` + ``paginate`` (the page's own code) and through the test client (the whole
  page, HTML included); p50/p95 over ``--repeat`` runs;
- the quick search on e-mail (``icontains``) with the pg_trgm index and without it (dropped inside a transaction
  that is rolled back);
- COUNT(*) of one tenant (authmon never runs it on a page: it shows "1–50 of many");
- the export of ``--export-rows`` rows as CSV and JSON (``bench/export_memory.py`` in a fresh process: time and
  peak RSS) beside ``COPY (SELECT ...) TO STDOUT``;
- ingest of ``--ingest-rows`` records through ``authmon.ingest.records_ingest`` in batches of 1,000 (validation,
  duplicate check, bulk insert, external_id keys) beside ``COPY ... FROM STDIN`` of the same rows;
- trim: a third of the ingested month by authmon's batched deletes, beside one raw DELETE of the same number of
  rows; then the retention trim that drops the two ingested months as whole partitions.

Prints a table and writes it as JSON. See bench/README.md for recorded results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authmon.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from authmon import maintenance, partitions, registry  # noqa: E402
from authmon.ingest import records_ingest  # noqa: E402
from authmon.models import Role, Tenant, User  # noqa: E402
from authmon.paging import _encode, paginate  # noqa: E402
from authmon.selectors import log_search  # noqa: E402
from events.models import EventLog  # noqa: E402

TABLE = "events_eventlog"
COLUMNS = [
    "external_id", "event_type", "client_name", "provider_name", "email", "username", "ip_address", "user_agent",
    "created_on", "details", "tenant_id",
]  # fmt: skip
TYPES = ["login", "login_failed", "logout", "mfa_verified", "token_refreshed"]
SEARCH = "user4242@"
results: list[dict[str, Any]] = []


def say(text: str) -> None:
    print(text, flush=True)


def sample(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """p50 and p95 wall time in milliseconds over ``repeat`` runs, after one warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def record(group: str, what: str, authmon: Any, raw: Any, note: str = "", floor: str = "") -> None:
    results.append(
        {"group": group, "what": what, "authmon": authmon, "raw_sql": raw, "issue_floor": floor, "note": note}
    )
    say(f"  {what}: authmon {authmon} | raw SQL {raw}" + (f" | floor {floor}" if floor else ""))


def ms(pair: tuple[float, float]) -> str:
    return f"{pair[0]:.1f} / {pair[1]:.1f} ms"


def raw_run(sql: str, params: Any) -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def captured(fn: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The SQL statements ``fn`` runs (with their parameters), to replay them raw."""
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return [(q["sql"], None) for q in ctx.captured_queries]


# ---------------------------------------------------------------------------------------------------- loading


def month_partitions(start: dt.datetime, end: dt.datetime) -> None:
    month = partitions.month_floor(start)
    while month <= end:
        partitions.partitions_ensure(now=month, months_ahead=0)
        month = partitions.month_add(month, 1)


def load(tenant: Tenant, rows: int, days: int, seed: int) -> float:
    """``rows`` events for ``tenant`` spread over the last ``days`` days, generated by PostgreSQL itself."""
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [seed / 1000])
        cursor.execute(
            f"""
            INSERT INTO {TABLE} ({", ".join(COLUMNS)})
            SELECT 'evt-' || %(t)s || '-' || g,
                   (ARRAY['login','login_failed','logout','mfa_verified','token_refreshed'])[1 + (random() * 4)::int],
                   (ARRAY['auth ui','billing portal','crm'])[1 + (random() * 2)::int],
                   (ARRAY['google','local','azure ad'])[1 + (random() * 2)::int],
                   'user' || (random() * 50000)::int || '@example.com',
                   'user' || (random() * 50000)::int,
                   ('198.51.100.' || (1 + (random() * 253)::int))::inet,
                   'Mozilla/5.0 (X11; Linux x86_64)',
                   now() - random() * make_interval(days => %(days)s),
                   jsonb_build_object('n', g),
                   %(t)s
              FROM generate_series(1, %(rows)s) g
            """,
            {"t": tenant.pk, "days": days, "rows": rows},
        )
    return time.perf_counter() - start


def setup(args: argparse.Namespace) -> tuple[list[Tenant], User]:
    call_command("migrate", verbosity=0)
    now = timezone.now()
    month_partitions(now - dt.timedelta(days=args.days), now)
    tenants = []
    for n in range(1, args.tenants + 1):
        tenant, _ = Tenant.objects.get_or_create(slug=f"bench-{n}", defaults={"name": f"Bench {n}"})
        tenants.append(tenant)
        have = EventLog.objects.for_tenant(tenant).count()
        if have < args.rows_per_tenant:
            EventLog.objects.for_tenant(tenant).delete()
            seconds = load(tenant, args.rows_per_tenant, args.days, n)
            say(f"loaded {args.rows_per_tenant:,} events for {tenant.slug} in {seconds:.1f} s")
    Tenant.objects.update(retention_events_days=365)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {TABLE}")
    user = User.objects.filter(email="bench@example.com").first() or User.objects.create_user(
        "bench@example.com", "bench-password-123", tenant=tenants[0], role=Role.TENANT_ADMIN
    )
    return tenants, user


# ------------------------------------------------------------------------------------------------ measurements


def pages(tenant: Tenant, user: User, args: argparse.Namespace) -> None:
    say("\nlist pages (p50 / p95)")
    kind = registry.get("events")
    client = Client()
    client.force_login(user)
    url = kind.list_url

    def page(params: dict[str, str], cursor: str | None = None) -> Any:
        search = log_search(kind, user, QueryDict(mutable=True) | params)
        return paginate(search.queryset, sort=search.sort, cursor=cursor, per_page=50)

    def side_by_side(what: str, params: dict[str, str], cursor: str | None = None, floor: str = "") -> None:
        statements = captured(lambda: page(params, cursor))
        authmon = sample(lambda: page(params, cursor), args.repeat)
        raw = sample(lambda: [raw_run(sql, p) for sql, p in statements], args.repeat)
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get(url, query)
        assert response.status_code == 200, response.status_code
        http = sample(lambda: client.get(url, query), args.repeat)
        record("pages", what, ms(authmon), ms(raw), f"whole page through the test client: {ms(http)}", floor)

    side_by_side("first page, default view (last 7 days, newest 50)", {}, floor="0.4 ms")
    side_by_side("first page, all time", {"preset": "all"})
    qs = EventLog.objects.for_tenant(tenant).order_by("-created_on", "-pk")
    anchor = qs[args.depth - 1]
    cursor = _encode(EventLog._meta.get_field("created_on"), anchor, "-created_on", args.depth, "n")
    side_by_side(f"keyset page {args.depth:,} rows deep (all time)", {"preset": "all"}, cursor, floor="1 ms")
    offset_sql = (
        f"SELECT * FROM {TABLE} WHERE tenant_id = %s ORDER BY created_on DESC, id DESC LIMIT 51 OFFSET {args.depth}"
    )
    offset = sample(lambda: list(qs[args.depth : args.depth + 51]), max(3, args.repeat // 6))
    offset_raw = sample(lambda: raw_run(offset_sql, [tenant.pk]), max(3, args.repeat // 6))
    record("pages", f"OFFSET page {args.depth:,} rows deep", ms(offset), ms(offset_raw), "what keyset avoids", "77 ms")
    count = sample(lambda: raw_run(f"SELECT count(*) FROM {TABLE} WHERE tenant_id = %s", [tenant.pk]), 3)
    record("pages", "COUNT(*) of one tenant", "never run by a page", ms(count), "", "124 ms")


def searches(tenant: Tenant, user: User, args: argparse.Namespace) -> None:
    say("\nquick search on e-mail, icontains (p50 / p95)")
    kind = registry.get("events")

    def run(params: dict[str, str]) -> Any:
        search = log_search(kind, user, QueryDict(mutable=True) | params)
        return paginate(search.queryset, sort=search.sort, cursor=None, per_page=50)

    # the expression Django compiles icontains to, and the one the trigram index is on (a plain ILIKE would miss it)
    every_sql = (
        f"SELECT * FROM {TABLE} WHERE tenant_id = %s AND UPPER(email::text) LIKE UPPER(%s) "
        "ORDER BY created_on DESC, id DESC"
    )
    repeat = args.repeat

    def measure(label: str, repeat: int, floor: str) -> None:
        for preset in ("last7", "all"):
            params = {"search": SEARCH, "preset": preset}
            statements = captured(lambda p=params: run(p))
            authmon = sample(lambda p=params: run(p), repeat)
            raw = sample(lambda s=statements: [raw_run(sql, p) for sql, p in s], repeat)
            record("search", f"{label}, {preset}", ms(authmon), ms(raw), "", floor if preset == "all" else "")
        every = sample(lambda: raw_run(every_sql, [tenant.pk, f"%{SEARCH}%"]), max(3, repeat // 6))
        record("search", f"{label}: every match (no LIMIT), all time", "-", ms(every), "", floor)

    measure("with trigram index", repeat, "150 ms")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX events_email_trgm")
        measure("without trigram index", max(3, repeat // 6), "4,957 ms")
        transaction.set_rollback(True)


def export(tenant: Tenant, args: argparse.Namespace) -> None:
    say("\nexport")
    script = Path(__file__).resolve().parent / "export_memory.py"
    for fmt in ("csv", "json"):
        out = subprocess.run(
            [sys.executable, str(script), "--tenant", tenant.slug, "--rows", str(args.export_rows), "--format", fmt],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        seconds = float(re.search(r": ([\d.]+) s,", out)[1])
        rss = re.search(r"peak RSS: (\d+) MB before, (\d+) MB after", out)
        size = re.search(r"(\d+) MB written", out)[1]
        authmon = f"{seconds:.1f} s, {args.export_rows / seconds:,.0f} rows/s, peak RSS {rss[2]} MB, {size} MB"
        if fmt == "csv":
            copy_s, copy_mb = copy_out(tenant, args.export_rows)
            raw = f"{copy_s:.1f} s, {args.export_rows / copy_s:,.0f} rows/s, {copy_mb:.0f} MB (COPY ... TO STDOUT CSV)"
        else:
            raw = "-"
        record("export", f"{fmt.upper()} export of {args.export_rows:,} rows", authmon, raw, "", "4.6 s (COPY out)")


def copy_out(tenant: Tenant, rows: int) -> tuple[float, float]:
    sql = (
        f"COPY (SELECT * FROM {TABLE} WHERE tenant_id = {int(tenant.pk)} ORDER BY created_on DESC, id DESC "
        f"LIMIT {int(rows)}) TO STDOUT (FORMAT csv, HEADER)"
    )
    connection.ensure_connection()
    size = 0
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
        for chunk in copy:
            out.write(chunk)
            size += len(chunk)
    return time.perf_counter() - start, size / 1e6


def generated(n: int, *, prefix: str, month: dt.datetime, seed: int, batch: int = 1000) -> Iterator[list[dict]]:
    """``n`` events of ``month`` as a client would send them, in batches (so a million never sit in memory)."""
    rng = random.Random(seed)
    span = (partitions.month_add(month, 1) - month).total_seconds() - 1
    for first in range(0, n, batch):
        yield [
            {
                "external_id": f"{prefix}-{i}",
                "event_type": rng.choice(TYPES),
                "client_name": rng.choice(["auth ui", "billing portal", "crm"]),
                "provider_name": rng.choice(["google", "local", "azure ad"]),
                "email": f"user{rng.randrange(50_000)}@example.com",
                "username": f"user{rng.randrange(50_000)}",
                "ip_address": f"198.51.100.{rng.randrange(1, 255)}",
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
                "created_on": (month + dt.timedelta(seconds=rng.random() * span)).isoformat(),
                "details": {"n": i},
            }
            for i in range(first, min(n, first + batch))
        ]


def ingest_and_trim(args: argparse.Namespace) -> None:
    now = timezone.now()
    api_month = partitions.month_add(partitions.month_floor(now), -14)
    copy_month = partitions.month_add(api_month, 1)
    partitions.partitions_ensure(now=api_month, months_ahead=1)
    api, _ = Tenant.objects.get_or_create(slug="bench-ingest-api", defaults={"name": "Ingest (API)"})
    raw, _ = Tenant.objects.get_or_create(slug="bench-ingest-copy", defaults={"name": "Ingest (COPY)"})
    Tenant.objects.update(retention_events_days=365)
    EventLog.objects.filter(tenant__in=[api, raw]).delete()  # leftovers of an interrupted run

    say("\ningest")
    n = args.ingest_rows
    start = time.perf_counter()
    for batch in generated(n, prefix="api", month=api_month, seed=1):
        result = records_ingest(kind="events", tenant=api, records=batch)
        assert result.created == len(batch), result
    api_s = time.perf_counter() - start
    assert EventLog.objects.for_tenant(api).count() == n  # nothing lost
    again = records_ingest(kind="events", tenant=api, records=next(generated(n, prefix="api", month=api_month, seed=1)))
    assert again.duplicates == 1000 and again.created == 0  # a replayed batch stores nothing

    buffer = io.StringIO()
    for batch in generated(n, prefix="copy", month=copy_month, seed=2):
        for r in batch:
            values = [*(str(r[c]) for c in COLUMNS[:9]), json.dumps(r["details"]), str(raw.pk)]
            buffer.write("\t".join(values) + "\n")
    data = buffer.getvalue().encode()
    connection.ensure_connection()
    start = time.perf_counter()
    statement = f"COPY {TABLE} ({', '.join(COLUMNS)}) FROM STDIN"
    with transaction.atomic(), connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
        for i in range(0, len(data), 1 << 20):
            copy.write(data[i : i + (1 << 20)])
    copy_s = time.perf_counter() - start
    record(
        "ingest",
        f"{n:,} events, batches of 1,000, with external_ids",
        f"{api_s:.1f} s, {n / api_s:,.0f} events/s (records_ingest)",
        f"{copy_s:.1f} s, {n / copy_s:,.0f} events/s (COPY FROM STDIN)",
        "records_ingest: pydantic validation, duplicate look-up, bulk_create, key triggers",
        "8.7 s (COPY in)",
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {TABLE}")

    say("\ntrim")
    third = api_month + (copy_month - api_month) / 3
    old = EventLog.objects.for_tenant(api).filter(created_on__lt=third)
    expected = old.count()
    start = time.perf_counter()
    deleted = maintenance._delete_batches(old, purge=False, time_field="created_on")
    batched_s = time.perf_counter() - start
    assert deleted == expected
    third_copy = copy_month + (partitions.month_add(copy_month, 1) - copy_month) / 3
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE tenant_id = %s AND created_on < %s", [raw.pk, third_copy])
        raw_deleted = cursor.rowcount
    raw_s = time.perf_counter() - start
    record(
        "trim",
        "delete a third of a month of one tenant",
        f"{batched_s:.1f} s for {deleted:,} rows (batches of {maintenance.TRIM_BATCH:,})",
        f"{raw_s:.1f} s for {raw_deleted:,} rows (one DELETE)",
        "",
        "4.4 s (DELETE 333k)",
    )
    remaining = EventLog.objects.filter(tenant__in=[api, raw]).count()
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        report = maintenance.tenant_trim(tenant=api, now=now)
        trim_s = time.perf_counter() - start
    assert not EventLog.objects.filter(tenant__in=[api, raw]).exists(), report.summary()
    spent = {"keys": 0.0, "locked": 0.0}
    for query in queries.captured_queries:
        if query["sql"].startswith(("ALTER TABLE", "DROP TABLE")):
            spent["locked"] += float(query["time"])
        elif query["sql"].startswith(f'DELETE FROM "{TABLE}_ingest_key"'):
            spent["keys"] += float(query["time"])
    record(
        "trim",
        "retention trim: two months past every tenant's retention",
        f"{trim_s:.2f} s for {remaining:,} rows (dropped {', '.join(report.dropped.get('events', []))})",
        "-",
        f"the whole tenant_trim run (every kind); of it, detach + drop (under the table lock) "
        f"{spent['locked'] * 1000:.0f} ms, deleting the months' external_id keys {spent['keys']:.2f} s (no table lock)",
        "under 1 s (target)",
    )


def machine() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(" on ")[0]
        settings = {}
        for name in ("shared_buffers", "work_mem", "maintenance_work_mem", "effective_cache_size", "max_wal_size"):
            cursor.execute(f"SHOW {name}")
            settings[name] = cursor.fetchone()[0]
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(memory, 1),
        "python": platform.python_version(),
        "postgresql": version,
        "settings": settings,
        "date": timezone.now().date().isoformat(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", type=int, default=3)
    parser.add_argument("--rows-per-tenant", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=180, help="the loaded events span this many days")
    parser.add_argument("--depth", type=int, default=500_000, help="how deep the deep-page test pages")
    parser.add_argument("--repeat", type=int, default=30, help="runs per timing (p50/p95)")
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--ingest-rows", type=int, default=1_000_000)
    parser.add_argument("--skip", nargs="*", default=[], choices=["pages", "search", "export", "ingest"])
    parser.add_argument("--json", default="bench/scale-results.json", help="where to write the results")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/scale.py measures PostgreSQL: set DATABASE_URL=postgres://...")

    tenants, user = setup(args)
    tenant = tenants[0]
    args.depth = min(args.depth, args.rows_per_tenant - 100)
    if "pages" not in args.skip:
        pages(tenant, user, args)
    if "search" not in args.skip:
        searches(tenant, user, args)
    if "export" not in args.skip:
        export(tenant, args)
    if "ingest" not in args.skip:
        ingest_and_trim(args)

    info = machine()
    total = EventLog.objects.count()
    say(f"\n{total:,} events in {TABLE}; {info['cpus']} CPUs, {info['memory_gib']} GiB, {info['postgresql']}")
    width = max(len(r["what"]) for r in results)
    for r in results:
        note = f"  ({r['note']})" if r["note"].startswith("whole page") else ""
        say(f"{r['what']:<{width}}  authmon: {r['authmon']}  |  raw: {r['raw_sql']}{note}")
    out = Path(args.json)
    if args.skip and out.exists():  # a partial run keeps the previous results of the groups it skipped
        ran = {r["group"] for r in results}
        results[:0] = [r for r in json.loads(out.read_text())["results"] if r["group"] not in ran]
    out.write_text(json.dumps({"machine": info, "events": total, "results": results}, indent=2) + "\n")
    say(f"results written to {args.json}")


if __name__ == "__main__":
    main()
