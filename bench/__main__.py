"""``python -m bench``: create and load a PostgreSQL database, measure authmon beside its baselines, report.

Phases: database (create, or ``--reuse`` a loaded one of the same sizes), migrate and static files, load
(``bench/load.py``), pages (``bench/pages.py``), then NLQ, export, ingest, trim and restore (``bench/ops.py``), and
finally one table on stdout and the JSON file. See bench/README.md.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.harness import GROUPS, say


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    description = "Create and load a PostgreSQL database, measure authmon beside its baselines, print and save a table."
    parser = argparse.ArgumentParser(prog="python -m bench", description=description)
    add = parser.add_argument
    add("--events", type=int, default=10_000_000, help="events in total, spread over the tenants (10,000,000)")
    add("--others", type=int, default=1_000_000, help="records of EACH other kind in total (1,000,000)")
    add("--tenants", type=int, default=10, help="tenants bench-01 .. bench-NN (10)")
    add("--days", type=int, default=120, help="the data spans this many days up to now (120)")
    add("--repeat", type=int, default=30, help="timed runs per measurement, after one warm-up (30)")
    add("--database", default="authmon_bench", help="the database to create (dropped first!) (authmon_bench)")
    add("--pg-url", default="postgres://postgres@127.0.0.1:5432/", help="PostgreSQL server, without a database")
    add("--reuse", action="store_true", help="keep the database if it holds a complete load of the same sizes")
    add("--only", nargs="+", choices=GROUPS, default=[], help="measure only these groups")
    add("--skip", nargs="+", choices=GROUPS, default=[], help="do not measure these groups")
    add("--json", default="bench/results.json", help="where to write the results (bench/results.json)")
    add("--export-rows", type=int, default=1_000_000, help="rows per export (capped to what exists)")
    add("--ingest-rows", type=int, default=1_000_000, help="events to ingest through the API")
    add("--restore-rows", type=int, default=1_000_000, help="audit records to restore")
    add(
        "--as-superuser",
        action="store_true",
        help="time the pages as the connecting superuser (no row-level security) instead of the app role",
    )
    return parser.parse_args(argv)


def environment(args: argparse.Namespace) -> None:
    """Production settings (DEBUG off) on the bench database, before Django starts."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DEBUG"] = "0"
    os.environ["DATABASE_URL"] = args.pg_url.rstrip("/") + "/" + args.database
    # A fixed key: the audit chain heads are signed with a key derived from it, so --reuse must see the same one.
    os.environ.setdefault("SECRET_KEY", "authmon-bench-secret-key-for-the-benchmark-database-only")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")  # pages are timed through the test client, over plain HTTP
    if "AUTHMON_DATA_DIR" not in os.environ:  # static files and exports of this run, removed when it ends
        os.environ["AUTHMON_DATA_DIR"] = tempfile.mkdtemp(prefix="authmon-bench-")
        atexit.register(shutil.rmtree, os.environ["AUTHMON_DATA_DIR"], ignore_errors=True)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Celery eager and a local-memory cache: the run depends on PostgreSQL only, whatever the caller's environment.
    for name in ("REDIS_URL", "AUTHMON_CACHE_URL"):
        os.environ.pop(name, None)


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    started = time.perf_counter()
    from bench import load

    say(f"database {args.database} at {args.pg_url}")
    needs_load = load.database_prepare(args)
    environment(args)
    import django

    django.setup()
    from django.core.management import call_command

    from bench import harness

    say("migrate and collect static files")
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    tenants = load.tenants_ensure(args.tenants)
    if needs_load:
        say(f"load {args.events:,} events and {args.others:,} of each other kind over {args.tenants} tenants")
        seconds = load.dataset_load(args, tenants)
        load.sizes_store(args, seconds)
    else:
        seconds = load.load_stored()
        say(f"--reuse: {args.database} is loaded already (load took {seconds.get('total', '?')} s)")
    admin, superadmin = load.users_ensure(tenants)  # after the load: nothing the accounts do may take chain positions
    bench = harness.Bench(args=args, tenants=tenants, admin=admin, superadmin=superadmin)
    if bench.wants("pages"):
        from bench import pages

        pages.run(bench)
    if (Path(__file__).parent / "ops.py").exists() and any(bench.wants(g) for g in GROUPS if g != "pages"):
        from bench import ops

        ops.run(bench)
    say("\n" + harness.table_text(bench.results))
    harness.report_write(Path(args.json), sizes=load.sizes_of(args), load=seconds, results=bench.results)
    missed = [r["what"] for r in bench.results if r["verdict"] == "missed"]
    say(f"\n{len(bench.results)} results, {len(missed)} targets missed; written to {args.json}")
    say(f"total {time.perf_counter() - started:,.0f} s")


if __name__ == "__main__":
    main()
