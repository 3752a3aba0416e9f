"""The benchmark's operations groups: NLQ, export, ingest, restore and trim, each beside the raw SQL of the same work.

``run(bench)`` measures the groups ``bench.wants``, in this order (trim last, although it only touches data it
creates, because it changes every tenant's events retention for a moment):

- **nlq**: every example question of the kinds' field maps (the monitoring guide's examples): parse-and-compile
  through ``nlq.interpret`` (CPU time, the verdict, and wall time), and the list page's query of the question
  (``log_search`` + ``paginate`` as tenants[0]'s admin) beside the same SQL replayed raw.
- **export**: ``export_rows`` events of tenants[0] as CSV and as sealed JSON through ``exports.export_to_file`` (the
  export job's code), each in a fresh process (``bench/export_memory.py``) for its peak RSS, beside
  ``COPY (SELECT ...) TO STDOUT`` of the same rows.
- **ingest**: ``ingest_rows`` events POSTed to ``/api/v1/events/`` of a gunicorn started here (production's WSGI
  server, two sync workers) in batches of 1,000 from two client threads, into a fresh tenant; the count is checked
  and a replayed batch must come back all duplicates. The events are of the last 7 days, as a live identity service
  sends them; the API's per-token rate limit is off for the run. The CPU time of the workers, of their PostgreSQL
  backends and of the clients is reported, to show where the time goes. Beside ``COPY ... FROM STDIN`` of as many
  rows for another fresh tenant.
- **restore**: a dedicated tenant gets ``restore_rows`` audit records through the audit chain's bulk path (timed on
  its own); the retention trim archives and purges them (``trim.tenant_trim``, the sanctioned removal); the
  archive is restored by ``restore.archive_restore`` in a fresh process; the count and ``chain_verify`` are checked.
  Beside ``COPY ... TO`` / ``COPY ... FROM`` of the same rows (the latter rolled back).
- **trim**: two dedicated tenants each get one month of events copied from tenants[0]'s rows: one in a month that
  other tenants keep (so ``tenant_trim`` deletes in batches), one in an otherwise empty month before every loaded
  row (so, with every tenant's retention set to end just after it, the trim drops the month's partition). Each
  beside one raw ``DELETE`` of the same rows in a transaction that is rolled back.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.db import connection, transaction
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.chain import chain_verify
from authmon import partitions, registry, trim
from authmon.models import Retention, Tenant
from authmon.paging import paginate
from authmon.selectors import log_search
from bench.harness import Bench, ms, raw_sql, sample, say

REPO = Path(__file__).resolve().parent.parent
PORTS = range(8911, 8920)
BATCH = 1_000
CLIENTS = 2
WORKERS = 2
NLQ_TARGET_MS = 5.0
EXPORT_SHARE = 0.5  # of COPY's rows/s
EXPORT_RSS_MB = 200
INGEST_TARGET = 25_000  # events/s
RESTORE_TARGET = 20_000  # records/s
TRIM_TARGET_S = 1.0
RETENTION_KINDS = ("audit", "events", "jobs", "notifications", "sessions", "grants")


def retain(tenant: Any, **days: int) -> None:
    """Set a tenant's (or tenant id's) retention of the named kinds, without the audit record of the console's form."""
    tenant_id = getattr(tenant, "pk", tenant)
    for kind, value in days.items():
        Retention.objects.update_or_create(tenant_id=tenant_id, kind=kind, defaults={"days": value})


def run(bench: Bench) -> None:
    """Measure every operations group the run selects; the trim goes last.

    Sizes follow the data set: ingest at most one tenant's share of ``--events`` and restore at most ``--others``
    records (at the default data set both are the issue's 1,000,000), so a small CI run stays small.
    """
    from bench.ops_ingest import ingest_measure  # here, not at the top: it uses this module's helpers

    for group, measure in (
        ("nlq", nlq_measure),
        ("export", export_measure),
        ("ingest", ingest_measure),
        ("restore", restore_measure),
        ("trim", trim_measure),
    ):
        if bench.wants(group):
            say(f"\n{group}")
            measure(bench)


# ---------------------------------------------------------------------------------------------------- helpers


def ingest_rows(bench: Bench) -> int:
    """``--ingest-rows``, at most one tenant's share of ``--events``, in whole batches."""
    args = bench.args
    return max(BATCH, min(args.ingest_rows, args.events // max(1, len(bench.tenants))))


def restore_rows(bench: Bench) -> int:
    """``--restore-rows``, at most ``--others``."""
    return max(1, min(bench.args.restore_rows, bench.args.others))


def _verdict(ok: bool) -> str:
    return "met" if ok else "missed"


def _replayed(fn: Callable[[], Any]) -> list[str]:
    """The SQL statements ``fn`` runs, parameters inlined (psycopg's client-side binding), to run them raw."""
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return [q["sql"] for q in ctx.captured_queries]


def _fresh_tenant(slug: str, **retention: int) -> Tenant:
    """A tenant of the benchmark's own; rows an interrupted run left in its events are deleted first."""
    tenant, _ = Tenant.objects.get_or_create(slug=slug, defaults={"name": slug.replace("-", " ").title()})
    retain(tenant, **retention)
    raw_sql(f"DELETE FROM {_events_table()} WHERE tenant_id = %s", [tenant.pk])
    return tenant


def _events_table() -> str:
    return registry.get("events").model._meta.db_table


def _copy_in(statement: str, path: Path) -> float:
    """Stream a COPY FROM STDIN of the file at ``path``; seconds taken (the caller decides commit or rollback)."""
    connection.ensure_connection()
    start = time.perf_counter()
    with path.open("rb") as source, connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
        while chunk := source.read(1 << 20):
            copy.write(chunk)
    return time.perf_counter() - start


def _copy_out(statement: str, path: Path) -> tuple[float, int]:
    """Stream a COPY ... TO STDOUT into the file at ``path``; seconds and bytes."""
    connection.ensure_connection()
    size = 0
    start = time.perf_counter()
    with path.open("wb") as out, connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
        for chunk in copy:
            out.write(chunk)
            size += len(chunk)
    return time.perf_counter() - start, size


def _copy_text(value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    text = json.dumps(value) if isinstance(value, dict | list) else str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _fresh_process(*args: str) -> dict[str, Any]:
    """Run ``bench/export_memory.py`` with ``args`` in a new interpreter; its one JSON line."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "bench.settings")}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "export_memory.py"), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench/export_memory.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -------------------------------------------------------------------------------------------------------- NLQ


def cpu_sample(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """p50 and p95 of the CPU time (this thread's) of ``fn`` in milliseconds, after one warm-up run.

    Parsing is pure computation: on a machine whose two cores are shared, wall time adds whole scheduler slices
    (about 4 ms) to a few runs, which is the machine's queue and not the parser's cost. Both are reported.
    """
    fn()
    times = []
    for _ in range(max(1, repeat)):
        start = time.thread_time()
        fn()
        times.append((time.thread_time() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def nlq_measure(bench: Bench) -> None:
    """Parse-and-compile and the page's query for every example question, as tenants[0]'s admin."""
    user = bench.admin
    tenant = bench.tenants[0]
    now = timezone.now()
    # The benchmark's own heap (every page measured so far) would make each full garbage collection scan far more
    # than a web worker's does; freezing it keeps those pauses out of a sub-millisecond parse's p95.
    gc.collect()
    gc.freeze()
    try:
        _nlq_questions(bench, user, tenant, now)
    finally:
        gc.unfreeze()


def _nlq_questions(bench: Bench, user: Any, tenant: Tenant, now: dt.datetime) -> None:
    from nlq import NLQError, interpret

    worst_parse: tuple[float, str] = (0.0, "")
    worst_query: tuple[float, str] = (0.0, "")
    parse_p95s = []
    for kind in registry.kinds():
        for question in kind.field_map.examples:

            def parse(q: str = question, fm: Any = kind.field_map) -> Any:
                try:
                    return interpret(q, fm, now=now, tz=tenant.tz)
                except NLQError as exc:
                    return exc

            understood = not isinstance(parse(), NLQError)
            runs = max(bench.args.repeat, 100)  # well under a millisecond each: enough runs for a meaningful p95
            parsed = sample(parse, runs)
            cpu = cpu_sample(parse, runs)

            def page(q: str = question, k: Any = kind) -> Any:
                search = log_search(k, user, QueryDict(urlencode({"q": q})))
                return paginate(search.queryset, sort=search.sort, cursor=None, per_page=50)

            statements = _replayed(page)
            queried = sample(page, bench.args.repeat)
            raw = sample(lambda s=statements: [raw_sql(sql) for sql in s], bench.args.repeat)
            rows = len(page().rows)
            parse_p95s.append(cpu[1])
            worst_parse = max(worst_parse, (cpu[1], f"[{kind.name}] {question}"))
            worst_query = max(worst_query, (queried[1], f"[{kind.name}] {question}"))
            bench.record(
                "nlq",
                f"[{kind.name}] {question}",
                f"parse+compile {ms(cpu)} CPU ({ms(parsed)} wall); page query {ms(queried)}",
                f"raw SQL {ms(raw)}",
                f"parse+compile < {NLQ_TARGET_MS:g} ms",
                _verdict(cpu[1] < NLQ_TARGET_MS),
                "" if understood else "not understood (an error answer)",
                parse_cpu_p50_ms=cpu[0],
                parse_cpu_p95_ms=cpu[1],
                parse_wall_p50_ms=parsed[0],
                parse_wall_p95_ms=parsed[1],
                query_p50_ms=queried[0],
                query_p95_ms=queried[1],
                raw_p50_ms=raw[0],
                raw_p95_ms=raw[1],
                rows=rows,
            )
    if parse_p95s:
        bench.record(
            "nlq",
            f"all {len(parse_p95s)} example questions: slowest parse+compile p95 (CPU)",
            f"{worst_parse[0]:.2f} ms; slowest page query p95 {worst_query[0]:.1f} ms",
            "",
            f"< {NLQ_TARGET_MS:g} ms each",
            _verdict(worst_parse[0] < NLQ_TARGET_MS),
            f"slowest parse: {worst_parse[1]}; slowest query: {worst_query[1]}",
            questions=len(parse_p95s),
            worst_parse_p95_ms=worst_parse[0],
            worst_query_p95_ms=worst_query[0],
        )


# ----------------------------------------------------------------------------------------------------- export


def export_measure(bench: Bench) -> None:
    """CSV and JSON exports of tenants[0]'s newest ``export_rows`` events in fresh processes, beside COPY."""
    tenant = bench.tenants[0]
    kind = registry.get("events")
    limit = bench.args.export_rows
    time_column = kind.model._meta.get_field(kind.time_field).column
    copy_sql = (
        f"COPY (SELECT * FROM {kind.model._meta.db_table} WHERE tenant_id = {int(tenant.pk)} "
        f"ORDER BY {time_column} DESC, id DESC LIMIT {int(limit)}) TO STDOUT (FORMAT csv, HEADER)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        copy_s, copy_bytes = _copy_out(copy_sql, Path(tmp) / "copy.csv")
    copied = raw_sql(
        f"SELECT count(*) FROM (SELECT 1 FROM {kind.model._meta.db_table} WHERE tenant_id = %s LIMIT %s) t",
        [tenant.pk, limit],
    )[0][0]
    copy_rate = copied / copy_s if copy_s else 0.0
    baseline = f"COPY TO STDOUT csv: {copy_s:.1f} s, {copy_rate:,.0f} rows/s, {copy_bytes / 1e6:.0f} MB"
    for fmt in ("csv", "json"):
        out = _fresh_process(
            "export", "--tenant", tenant.slug, "--user", bench.admin.email, "--rows", str(limit), "--format", fmt
        )
        rate = out["rows"] / out["seconds"] if out["seconds"] else 0.0
        share = rate / copy_rate if copy_rate else 0.0
        ok = share >= EXPORT_SHARE and out["rss_peak_mb"] < EXPORT_RSS_MB
        bench.record(
            "export",
            f"{fmt.upper()} export of {out['rows']:,} events",
            f"{out['seconds']:.1f} s, {rate:,.0f} rows/s ({share:.0%} of COPY), peak RSS {out['rss_peak_mb']:.0f} MB, "
            f"{out['bytes'] / 1e6:.0f} MB",
            baseline,
            f">= {EXPORT_SHARE:.0%} of COPY rows/s, RSS < {EXPORT_RSS_MB} MB",
            _verdict(ok),
            f"fresh process; RSS {out['rss_before_mb']:.0f} MB before the export started",
            rows=out["rows"],
            seconds=out["seconds"],
            rows_per_s=rate,
            share_of_copy=share,
            rss_peak_mb=out["rss_peak_mb"],
            rss_before_mb=out["rss_before_mb"],
            bytes=out["bytes"],
            copy_seconds=copy_s,
            copy_rows_per_s=copy_rate,
        )


# ---------------------------------------------------------------------------------------------------- restore


def audit_generate(tenant: Tenant, n: int, *, start: dt.datetime, end: dt.datetime) -> float:
    """``n`` audit records for ``tenant`` through the audit chain's bulk path (masking, diff, hashes); seconds."""
    model = registry.get("audit").model
    rng = random.Random(7)
    step = (end - start) / max(1, n)
    chunk = 5_000
    began = time.perf_counter()
    for first in range(0, n, chunk):
        batch = []
        for i in range(first, min(n, first + chunk)):
            name = f"provider-{rng.randrange(500)}"
            batch.append(
                model(
                    tenant=tenant,
                    external_id=f"restore-{i}",
                    action=rng.choice(("update IdentityProvider", "create User", "delete Role", "update Application")),
                    target=name,
                    actor=f"admin{rng.randrange(40)}@example.com",
                    subject=f"user{rng.randrange(50_000)}@example.com",
                    client_actor=rng.choice(("console", "terraform", "")),
                    timestamp=start + step * i,
                    old_entity={"name": name, "enabled": True, "scopes": ["openid", "email"]},
                    new_entity={"name": name, "enabled": rng.random() < 0.5, "scopes": ["openid", "email", "profile"]},
                    comments="",
                )
            )
        with transaction.atomic():
            model.objects.bulk_create(batch)
    return time.perf_counter() - began


def restore_measure(bench: Bench) -> None:
    """Archive, purge and restore a dedicated tenant's ``restore_rows`` audit records, beside COPY out and in."""
    n = restore_rows(bench)
    now = timezone.now()
    stamp = now.strftime("%Y%m%d%H%M%S")
    keep = dict.fromkeys(RETENTION_KINDS, 0)  # nothing but its audit is trimmed, and no partition drop is allowed
    tenant = Tenant.objects.create(slug=f"bench-restore-{stamp}", name="Bench restore")
    retain(tenant, **keep)
    model = registry.get("audit").model
    table = model._meta.db_table
    start = now - dt.timedelta(days=max(3, bench.args.days - 1))
    made_s = audit_generate(tenant, n, start=start, end=now - dt.timedelta(days=2))
    raw_sql(f"ANALYZE {table}")

    with tempfile.TemporaryDirectory() as tmp:
        rows = Path(tmp) / "audit.copy"
        out_s, _ = _copy_out(f"COPY (SELECT * FROM {table} WHERE tenant_id = {int(tenant.pk)}) TO STDOUT", rows)

        retain(tenant, audit=1)  # every record past retention: the trim archives, then purges them all
        began = time.perf_counter()
        report = trim.tenant_trim(tenant=tenant, now=now)
        trim_s = time.perf_counter() - began
        purged = report.deleted.get("audit", 0)
        archive = report.archives[0].written.place.resolve()

        with transaction.atomic():
            copy_in_s = _copy_in(f"COPY {table} FROM STDIN", rows)
            transaction.set_rollback(True)

    out = _fresh_process("restore", "--tenant", tenant.slug, "--archive", str(archive))
    stored = model.objects.for_tenant(tenant).count()
    began = time.perf_counter()
    verified = chain_verify(tenant=tenant)
    verify_s = time.perf_counter() - began
    archive.unlink(missing_ok=True)

    rate = out["created"] / out["seconds"] if out["seconds"] else 0.0
    ok = rate >= RESTORE_TARGET and stored == n and verified.ok
    bench.record(
        "restore",
        f"restore {n:,} audit records from a sealed archive",
        f"{out['seconds']:.1f} s, {rate:,.0f} records/s, peak RSS {out['rss_peak_mb']:,.0f} MB; {stored:,} stored, "
        f"chain {'verifies' if verified.ok else 'BROKEN: ' + verified.problem}",
        f"COPY FROM STDIN (rolled back): {copy_in_s:.1f} s, {n / copy_in_s:,.0f} records/s",
        f">= {RESTORE_TARGET:,} records/s",
        _verdict(ok),
        f"fresh process, archive {out['bytes'] / 1e6:.0f} MB read whole",
        records=n,
        seconds=out["seconds"],
        records_per_s=rate,
        rss_peak_mb=out["rss_peak_mb"],
        copy_in_seconds=copy_in_s,
        stored=stored,
    )
    bench.record(
        "restore",
        f"archive + purge of the same {n:,} records (tenant_trim)",
        f"{trim_s:.1f} s ({purged:,} purged, archived to one sealed file)",
        f"COPY TO STDOUT: {out_s:.1f} s",
        note="the sanctioned removal: sealed export, then chain purge in batches",
        seconds=trim_s,
        purged=purged,
        copy_out_seconds=out_s,
    )
    bench.record(
        "restore",
        f"set-up: {n:,} audit records through the chain's bulk path; chain_verify",
        f"{made_s:.1f} s, {n / made_s:,.0f} records/s; verify {verify_s:.1f} s",
        note="bulk_create: masking, diff and chain hashes per record",
        seconds=made_s,
        verify_seconds=verify_s,
    )


# ------------------------------------------------------------------------------------------------------- trim


def _month_copy(target: Tenant, source: Tenant, month: dt.datetime, rows: int) -> int:
    """Copy ``rows`` of ``source``'s newest events to ``target``, their times spread over ``month``; rows copied."""
    model = registry.get("events").model
    time_column = model._meta.get_field("created_on").column
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    chosen = {"tenant_id": "%(target)s", time_column: "%(start)s::timestamptz + random() * %(span)s::interval"}
    selected = ", ".join(chosen.get(c, c) for c in columns)
    span = partitions.month_add(month, 1) - month - dt.timedelta(seconds=1)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {selected} "
            f"FROM {model._meta.db_table} WHERE tenant_id = %(source)s ORDER BY {time_column} DESC LIMIT %(rows)s",
            {"target": target.pk, "source": source.pk, "start": month, "span": span, "rows": rows},
        )
        copied = cursor.rowcount
        cursor.execute(f"ANALYZE {model._meta.db_table}")
    return copied


def _raw_delete(tenant: Tenant, before: dt.datetime) -> tuple[float, int]:
    """One DELETE of the tenant's events before ``before``, rolled back: seconds and rows."""
    with transaction.atomic():
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {_events_table()} WHERE tenant_id = %s AND created_on < %s", [tenant.pk, before]
            )
            deleted = cursor.rowcount
        seconds = time.perf_counter() - began
        transaction.set_rollback(True)
    return seconds, deleted


def _days_until(now: dt.datetime, when: dt.datetime) -> int:
    """Whole days from ``when`` to ``now``: a retention of that many days puts its cutoff at or after ``when``."""
    return int((now - when).total_seconds() // 86400)


def trim_measure(bench: Bench) -> None:
    """One tenant's month by batched deletes, and a month past every tenant's retention by partition drop."""
    events = registry.get("events").model
    source = bench.tenants[0]
    now = timezone.now()
    per_month = max(1, round(bench.args.events / len(bench.tenants) * 30.44 / bench.args.days))
    others = dict.fromkeys((k for k in RETENTION_KINDS if k != "events"), 0)  # only events are trimmed
    month_tenant = _fresh_tenant("bench-trim-month", **others)
    drop_tenant = _fresh_tenant("bench-trim-drop", **others)
    oldest = raw_sql(f"SELECT min(created_on) FROM {_events_table()}")[0][0] or now
    oldest_month = partitions.month_floor(oldest)

    # 1. A month other tenants keep: the trim deletes the tenant's rows in batches.
    month = partitions.month_add(partitions.month_floor(now), -2)
    partitions.partitions_ensure(now=month, months_ahead=0)
    copied = _month_copy(month_tenant, source, month, per_month)
    raw_s, raw_rows = _raw_delete(month_tenant, partitions.month_add(month, 1))
    retain(month_tenant, events=_days_until(now, partitions.month_add(month, 1)))
    # The drop tenant keeps every loaded row meanwhile, so that no tenant's short retention lets this trim drop any.
    retain(drop_tenant, events=_days_until(now, oldest_month) + 2)
    began = time.perf_counter()
    report = trim.tenant_trim(tenant=month_tenant, now=now)
    trim_s = time.perf_counter() - began
    left = events.objects.for_tenant(month_tenant).count()
    deleted = report.deleted.get("events", 0)
    how = (
        f"dropped {', '.join(report.dropped['events'])}" if report.dropped.get("events") else "batched deletes"
    ) + f" ({trim.TRIM_BATCH:,} per batch)"
    bench.record(
        "trim",
        f"one tenant's month of events ({copied:,} rows), other tenants keep it",
        f"{trim_s:.2f} s by {how}: {deleted:,} deleted, {left:,} left",
        f"one DELETE (rolled back): {raw_s:.2f} s for {raw_rows:,} rows",
        "",
        "",
        report.summary(),
        rows=copied,
        seconds=trim_s,
        deleted=deleted,
        raw_seconds=raw_s,
    )

    # 2. A month before every loaded row, past every tenant's retention: the trim drops its partition.
    days = _days_until(now, oldest_month)
    if days < 1:
        bench.record("trim", "month partition drop", "skipped: the loaded data starts this month", verdict="")
        return
    month = partitions.month_add(oldest_month, -1)
    partitions.partitions_ensure(now=month, months_ahead=0)
    copied = _month_copy(drop_tenant, source, month, per_month)
    raw_s, raw_rows = _raw_delete(drop_tenant, partitions.month_add(month, 1))
    saved = list(Retention.objects.filter(kind="events").values_list("tenant_id", "days"))
    try:
        for tenant_id in Tenant.objects.values_list("pk", flat=True):  # ends in the first day of the oldest month
            retain(tenant_id, events=days)
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            report = trim.tenant_trim(tenant=drop_tenant, now=now)
            trim_s = time.perf_counter() - began
    finally:
        Retention.objects.filter(kind="events").delete()
        for tenant_id, value in saved:
            retain(tenant_id, events=value)
    locked = sum(float(q["time"]) for q in queries.captured_queries if q["sql"].startswith(("ALTER TABLE", "DROP")))
    keys = sum(float(q["time"]) for q in queries.captured_queries if "_ingest_key" in q["sql"][:80])
    left = events.objects.for_tenant(drop_tenant).count()
    dropped = report.dropped.get("events", [])
    bench.record(
        "trim",
        f"a month past every tenant's retention ({copied:,} rows)",
        f"{trim_s:.2f} s, "
        + (f"dropped {', '.join(dropped)}" if dropped else "NO partition dropped")
        + f"; {left:,} left; detach+drop {locked * 1000:.0f} ms, external_id keys {keys * 1000:.0f} ms",
        f"one DELETE (rolled back): {raw_s:.2f} s for {raw_rows:,} rows",
        f"< {TRIM_TARGET_S:g} s by partition drop",
        _verdict(bool(dropped) and left == 0 and trim_s < TRIM_TARGET_S),
        report.summary(),
        rows=copied,
        seconds=trim_s,
        locked_ms=locked * 1000,
        keys_ms=keys * 1000,
        raw_seconds=raw_s,
    )
