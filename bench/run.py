"""Benchmarks of the list page, keyset paging and streaming export on a large events table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/authmon_bench SECRET_KEY=x \
        python bench/run.py --rows 1000000 [--keep]

Creates a throw-away tenant with ``--rows`` events spread over 60 days (bulk insert), then times, through the same
code the pages use: the default first page (last 7 days, newest 50), a page 10,000 rows deep by keyset vs OFFSET,
the quick search on e-mail, a question, and a streamed JSON export of 100,000 rows with its peak memory. Prints a
table; see bench/README.md for recorded results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authmon.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.utils import timezone  # noqa: E402

from authmon import exports, partitions, registry  # noqa: E402
from authmon.models import Role, Tenant, User  # noqa: E402
from authmon.paging import _encode, paginate  # noqa: E402
from authmon.selectors import log_search  # noqa: E402
from events.models import EventLog  # noqa: E402


def timed(fn, repeat: int = 5) -> float:
    """Median wall time in milliseconds over ``repeat`` runs (after one warm-up)."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def load(tenant: Tenant, rows: int) -> float:
    rng = random.Random(7)
    now = timezone.now()
    types = ["login", "login_failed", "logout", "mfa_verified", "token_refreshed"]
    start = time.perf_counter()
    batch = []
    for i in range(rows):
        batch.append(
            EventLog(
                tenant=tenant,
                event_type=rng.choice(types),
                client_name=rng.choice(["auth ui", "billing portal", "crm"]),
                provider_name=rng.choice(["google", "local", "azure ad"]),
                email=f"user{rng.randrange(50_000)}@example.com",
                ip_address=f"198.51.100.{rng.randrange(1, 255)}",
                user_agent="Mozilla/5.0",
                created_on=now - dt.timedelta(seconds=rng.randrange(60 * 24 * 3600)),
                details={"n": i},
            )
        )
        if len(batch) == 10_000:
            EventLog.objects.bulk_create(batch)
            batch.clear()
    EventLog.objects.bulk_create(batch)
    if connection.vendor == "postgresql":
        partitions.partitions_ensure()  # past months' rows went to the default partition: give them their months
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE events_eventlog")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark tenant and rows")
    parser.add_argument("--export-rows", type=int, default=100_000, help="rows in the streamed export test")
    parser.add_argument("--depth", type=int, default=500_000, help="how deep the deep-page test pages")
    args = parser.parse_args()

    tenant, _ = Tenant.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    user = User.objects.filter(email="bench@example.com").first() or User.objects.create_user(
        "bench@example.com", "bench-password-123", tenant=tenant, role=Role.TENANT_ADMIN
    )
    existing = EventLog.objects.for_tenant(tenant).count()
    if existing < args.rows:
        seconds = load(tenant, args.rows - existing)
        print(f"loaded {args.rows - existing:,} rows in {seconds:.1f} s")
    kind = registry.get("events")

    def page_for(params: dict[str, str], cursor: str | None = None):
        search = log_search(kind, user, QueryDict(mutable=True) | params)
        return paginate(search.queryset, sort=search.sort, cursor=cursor, per_page=50)

    results = {"first page (default: last 7 days)": timed(lambda: page_for({}))}
    results["first page, all time"] = timed(lambda: page_for({"preset": "all"}))
    qs = EventLog.objects.for_tenant(tenant).order_by("-created_on", "-pk")
    depth = min(args.depth, max(existing, args.rows) - 100)
    anchor = qs[depth - 1]  # the cursor a user holds after paging down to ``depth`` rows
    cursor = _encode(EventLog._meta.get_field("created_on"), anchor, "-created_on", depth, "n")
    results[f"keyset page {depth:,} rows deep"] = timed(lambda: page_for({"preset": "all"}, cursor))
    results[f"OFFSET page {depth:,} rows deep"] = timed(lambda: list(qs[depth : depth + 50]))
    results["quick search e-mail (contains)"] = timed(lambda: page_for({"search": "user4242@"}))
    results["question: failed logins last 24 hours"] = timed(
        lambda: page_for({"q": "failed logins in the last 24 hours"})
    )

    n = min(args.export_rows, max(existing, args.rows))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    size = 0
    for piece in exports.stream_json(kind, qs, tenant_slug=tenant.slug, filters={}, limit=n):
        size += len(piece)
    export_s = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    print(f"\nbackend: {connection.vendor}, rows in tenant: {max(existing, args.rows):,}")
    for name, ms in results.items():
        print(f"{name:45s} {ms:9.1f} ms")
    print(f"{'JSON export of ' + format(n, ',') + ' rows':45s} {export_s * 1000:9.1f} ms ({size / 1e6:.0f} MB)")
    print(f"{'peak RSS before / after export':45s} {before / 1024:6.0f} / {peak / 1024:.0f} MB")
    if not args.keep:
        EventLog.objects.for_tenant(tenant).delete()
        User.objects.filter(pk=user.pk).delete()
        from audit.models import AuditLog

        AuditLog.objects.for_tenant(tenant).purge_expired()
        tenant.delete()


if __name__ == "__main__":
    main()
