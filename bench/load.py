"""Create the benchmark database and load it fast: COPY of rows generated in Python from precomputed pools.

The data set: ``--events`` events and ``--others`` records of every other kind, spread evenly over ``--tenants``
tenants and over the last ``--days`` days (today included, up to now). Rows are written day by day, every tenant's
rows of a day in time order, so the tables' physical order is what steady ingest produces. Values are realistic
enough for the pages, searches and questions (about 6% failed logins, e-mails of a 20,000-person directory, home
IPs and browsers, job failures with stack traces, sessions and grants that expire), and valid for every field's
choices.

Speed: the big tables' secondary indexes (read from PostgreSQL's catalogue; on a partitioned table the parent's
partitioned index) are dropped before COPY and recreated from their saved definitions after. Primary keys, unique
indexes (the external_id key tables, the audit chain position) and triggers stay, so every key table is filled by
the same triggers as in production. Audit records form a valid hash chain per tenant (``audit.chain``), with a
signed chain head, so verification and restores measure real work.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import time
from collections.abc import Iterator
from typing import Any

from bench.generate import (
    SECONDS,
    Day,
    Gen,
    Pools,
    access_gen,
    audit_gen,
    audit_heads_write,
    copy_default,
    events_gen,
    jobs_gen,
    notifications_gen,
)

BENCH_META = "bench_meta"  # one row: the sizes of the loaded data set, written when a load completes
CHUNK_BYTES = 4 << 20
COPY_ROWS = 200_000


# ------------------------------------------------------------------------------------------------- database


def sizes_of(args: argparse.Namespace) -> dict[str, int]:
    return {"events": args.events, "others": args.others, "tenants": args.tenants, "days": args.days}


def database_prepare(args: argparse.Namespace) -> bool:
    """Create ``--database`` (dropping an old one) unless ``--reuse`` finds it loaded with the same sizes.

    Returns whether the data set must be loaded. Runs before Django starts, with psycopg directly.
    """
    import psycopg
    from psycopg import sql

    base = args.pg_url.rstrip("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.database]).fetchone()
    if exists and args.reuse:
        with psycopg.connect(f"{base}/{args.database}", autocommit=True) as conn:
            found = conn.execute("SELECT to_regclass(%s)", [BENCH_META]).fetchone()[0]
            loaded = conn.execute(f"SELECT sizes FROM {BENCH_META}").fetchone() if found else None
        if loaded and loaded[0] == sizes_of(args):
            return False
        print(f"--reuse: {args.database} holds {loaded[0] if loaded else 'no complete load'}; re-creating it")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if exists:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(args.database)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(args.database)))
    return True


def sizes_store(args: argparse.Namespace, load: dict[str, Any]) -> None:
    from bench.harness import raw_sql

    raw_sql(f"CREATE TABLE IF NOT EXISTS {BENCH_META} (sizes jsonb NOT NULL, load jsonb NOT NULL)")
    raw_sql(f"DELETE FROM {BENCH_META}")
    raw_sql(f"INSERT INTO {BENCH_META} VALUES (%s, %s)", [json.dumps(sizes_of(args)), json.dumps(load)])


def load_stored() -> dict[str, Any]:
    from bench.harness import raw_sql

    rows = raw_sql(f"SELECT load FROM {BENCH_META}")
    if not rows:
        return {}
    value = rows[0][0]
    while isinstance(value, str):  # the driver may hand jsonb back as its text
        value = json.loads(value)
    return value


# ----------------------------------------------------------------------------------------------- the loading


def day_times(rng: random.Random, day_start: dt.datetime, n: int, limit: float) -> Day:
    """``n`` sorted times within the first ``limit`` seconds of the day that starts at ``day_start`` (UTC)."""
    prefix = day_start.strftime("%Y-%m-%d ")
    base = day_start.timestamp()
    offsets = sorted(rng.random() * limit for _ in range(n))
    texts = [f"{prefix}{SECONDS[int(s)]}.{int((s % 1) * 1_000_000):06d}+00" for s in offsets]
    return Day(texts, [base + s for s in offsets])


def spread(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def secondary_indexes(table: str) -> list[tuple[str, str]]:
    """(name, definition) of ``table``'s indexes that no constraint or uniqueness needs (on the parent only)."""
    from bench.harness import raw_sql

    return raw_sql(
        """
        SELECT c.relname, pg_get_indexdef(i.indexrelid)
          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE i.indrelid = %s::regclass AND NOT i.indisunique AND NOT i.indisprimary
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
         ORDER BY c.relname
        """,
        [table],
    )


def indexes_drop(table: str) -> list[tuple[str, str]]:
    from bench.harness import raw_sql

    saved = secondary_indexes(table)
    for name, _ in saved:
        raw_sql(f'DROP INDEX "{name}"')
    return saved


def indexes_create(saved: list[tuple[str, str]]) -> None:
    """Rebuild the saved indexes: GIN ones (single-threaded builds, the slowest) beside the B-trees, two sessions."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from bench.harness import raw_sql

    def build(definitions: list[str]) -> None:
        try:  # each thread has its own Django connection
            raw_sql("SET maintenance_work_mem = '512MB'")
            for definition in definitions:
                raw_sql(definition.replace(" ON ONLY ", " ON ", 1))  # a partitioned index: built on every partition
        finally:
            connection.close()

    gin = [d for _, d in saved if " USING gin " in d]
    other = [d for _, d in saved if " USING gin " not in d]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for done in [pool.submit(build, gin), pool.submit(build, other)]:
            done.result()


def partitions_cover(start: dt.datetime, end: dt.datetime) -> None:
    from authmon import partitions

    month = partitions.month_floor(start)
    while month <= end:
        partitions.partitions_ensure(now=month, months_ahead=0)
        month = partitions.month_add(month, 1)
    partitions.partitions_ensure(now=end)


def copy_rows(table: str, columns: list[str], lines: Iterator[str], progress: Any) -> None:
    """COPY ``lines`` into ``table`` in chunks (one COPY statement per call, its own transaction)."""
    from django.db import connection
    from psycopg.copy import QueuedLibpqWriter

    connection.ensure_connection()
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.connection.cursor() as cursor:
        # The queued writer sends from its own thread, so PostgreSQL works on one chunk while Python builds the next.
        copy_context = cursor.copy(statement, writer=QueuedLibpqWriter(cursor))
        with copy_context as copy:
            _copy_chunks(copy, lines, progress)


def _copy_chunks(copy: Any, lines: Iterator[str], progress: Any) -> None:
    buffer: list[str] = []
    size = 0
    for line in lines:
        buffer.append(line)
        size += len(line)
        if size > CHUNK_BYTES:
            copy.write("".join(buffer))
            progress.update(len(buffer))
            buffer, size = [], 0
    if buffer:
        copy.write("".join(buffer))
        progress.update(len(buffer))


def kind_load(gen: Gen, total: int, tenants: list[Any], days: int, now: dt.datetime, rng: random.Random) -> float:
    """Load ``total`` rows of one kind over ``tenants`` and ``days``; returns seconds taken."""
    from tqdm import tqdm

    from authmon import registry

    model = registry.get(gen.kind).model
    table = model._meta.db_table
    by_name = {f.name: f for f in model._meta.concrete_fields}
    columns = [by_name[name].column for name in gen.fields] + ["tenant_id"]
    rest = [f for f in model._meta.concrete_fields if f.name not in {*gen.fields, "id", "tenant"}]
    columns += [f.column for f in rest]
    tail = "".join(f"\t{copy_default(f)}" for f in rest) + "\n"
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - dt.timedelta(days=days - 1)
    per_day = {t.pk: spread(n, days) for t, n in zip(tenants, spread(total, len(tenants)), strict=True)}
    start = time.perf_counter()
    saved = indexes_drop(table)
    with tqdm(total=total, desc=f"{gen.kind:<13}", unit=" rows", unit_scale=True, mininterval=2) as progress:

        def lines(days_of_copy: range) -> Iterator[str]:
            for d in days_of_copy:
                day_start = first + dt.timedelta(days=d)
                limit = (now - day_start).total_seconds() if d == days - 1 else 86_400.0
                for tenant in tenants:
                    suffix = f"\t{tenant.pk}{tail}"
                    for line in gen.rows(tenant, day_times(rng, day_start, per_day[tenant.pk][d], limit)):
                        yield line + suffix

        # One COPY (one transaction, one run of the key-table triggers) per COPY_ROWS rows or so, whole days each.
        step = max(1, COPY_ROWS * days // max(1, total))
        for d in range(0, days, step):
            copy_rows(table, columns, lines(range(d, min(days, d + step))), progress)
    progress.write(f"  {gen.kind}: {total:,} rows copied in {time.perf_counter() - start:.1f} s; building indexes")
    index_start = time.perf_counter()
    indexes_create(saved)
    print(f"  {gen.kind}: {len(saved)} indexes rebuilt in {time.perf_counter() - index_start:.1f} s", flush=True)
    return time.perf_counter() - start


def tenants_ensure(count: int) -> list[Any]:
    from authmon import registry
    from authmon.models import Retention, Tenant

    tenants = []
    for n in range(1, count + 1):
        tenant, _ = Tenant.objects.get_or_create(slug=f"bench-{n:02d}", defaults={"name": f"Bench {n:02d}"})
        tenants.append(tenant)
    for tenant in tenants:  # nothing trimmed by accident
        for kind in registry.kinds():
            Retention.objects.update_or_create(tenant=tenant, kind=kind.name, defaults={"days": 3650})
    return tenants


def users_ensure(tenants: list[Any]) -> tuple[Any, Any]:
    from authmon.models import Role, User
    from bench.harness import PASSWORD

    admin = User.objects.filter(email="bench-admin@example.com").first() or User.objects.create_user(
        "bench-admin@example.com", PASSWORD, tenant=tenants[0], role=Role.TENANT_ADMIN
    )
    superadmin = User.objects.filter(email="bench-super@example.com").first() or User.objects.create_superuser(
        "bench-super@example.com", PASSWORD, tenant=tenants[0]
    )
    return admin, superadmin


def dataset_load(args: argparse.Namespace, tenants: list[Any]) -> dict[str, Any]:
    """Load every kind (events first), rebuild indexes, VACUUM ANALYZE; returns the seconds per phase."""
    from django.utils import timezone

    from bench.harness import raw_sql, say

    now = timezone.now()
    raw_sql("SET maintenance_work_mem = '512MB'")
    raw_sql("SET synchronous_commit = off")
    start = time.perf_counter()
    partitions_cover(now - dt.timedelta(days=args.days), now)
    pools = Pools()
    rng = random.Random(9)
    seconds: dict[str, Any] = {}
    plan = [
        (events_gen(pools), args.events),
        (audit_gen(pools), args.others),
        (jobs_gen(pools), args.others),
        (notifications_gen(pools), args.others),
        (access_gen(pools, "sessions", now), args.others),
        (access_gen(pools, "grants", now), args.others),
    ]
    for gen, total in plan:
        seconds[gen.kind] = round(kind_load(gen, total, tenants, args.days, now, rng), 1)
        if gen.kind == "audit":
            audit_heads_write(gen, tenants)
    vacuum_start = time.perf_counter()
    raw_sql("VACUUM ANALYZE")
    raw_sql("RESET maintenance_work_mem")  # the measurements run with the server's settings, commits durable
    raw_sql("RESET synchronous_commit")
    seconds["vacuum_analyze"] = round(time.perf_counter() - vacuum_start, 1)
    seconds["total"] = round(time.perf_counter() - start, 1)
    say(
        "load: "
        + ", ".join(f"{k} {v:,.1f} s" for k, v in seconds.items())
        + f" ({args.events + 5 * args.others:,} rows)"
    )
    return seconds
