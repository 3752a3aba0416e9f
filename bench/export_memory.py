"""One export or one restore in a fresh process: its wall time and the process's peak RSS, as one JSON line.

    python bench/export_memory.py export --tenant bench-01 --user admin@bench.example --rows 1000000 --format csv
    python bench/export_memory.py restore --tenant bench-restore --archive data/archive/audit-....json

A fresh process, because a process's peak memory only ever grows: measured inside the benchmark, whatever ran
before would set the peak. ``export`` runs what the export job runs (``console.tasks.export_run_task``):
``log_search`` of the kind's list as ``--user`` with every record selected (``preset=all``), newest first, through
``exports.export_to_file`` to a temporary file. ``restore`` runs what the restore job runs (``restore_run_task``):
read the uploaded archive, then ``restore.archive_restore``. Django's settings come from ``DJANGO_SETTINGS_MODULE``
and the environment (``bench/ops.py`` passes its own).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.http import QueryDict  # noqa: E402

from authmon import exports, registry, restore  # noqa: E402
from authmon.models import Tenant, User  # noqa: E402
from authmon.selectors import log_search  # noqa: E402


def peak_mb() -> float:
    """This process's peak resident memory in MB.

    ``VmHWM`` of /proc/self/status, not ``ru_maxrss``: Linux carries the parent's peak into ``ru_maxrss`` across
    fork and exec, so a process started by the benchmark (hundreds of MB by then) would report the parent's peak.
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux; elsewhere an upper bound


def export_run(args: argparse.Namespace) -> dict[str, Any]:
    kind = registry.get(args.kind)
    user = User.objects.get(email=args.user)
    tenant = Tenant.objects.get(slug=args.tenant)
    user._active_tenant = tenant  # as the export job does for a super admin's export
    search = log_search(kind, user, QueryDict("preset=all"))
    queryset = search.queryset.order_by(search.sort, "-pk" if search.sort.startswith("-") else "pk")
    columns = exports.export_columns(kind.table([]))
    before = peak_mb()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"export.{args.format}"
        start = time.perf_counter()
        count = exports.export_to_file(
            kind=kind,
            queryset=queryset,
            tenant_slug=tenant.slug,
            filters={"preset": "all"},
            fmt=args.format,
            limit=args.rows,
            columns=columns,
            path=path,
        )
        seconds = time.perf_counter() - start
        size = path.stat().st_size
    return {"rows": count, "seconds": seconds, "bytes": size, "rss_before_mb": before, "rss_peak_mb": peak_mb()}


def restore_run(args: argparse.Namespace) -> dict[str, Any]:
    tenant = Tenant.objects.get(slug=args.tenant)
    before = peak_mb()
    start = time.perf_counter()
    raw = Path(args.archive).read_bytes()
    result = restore.archive_restore(raw=raw, tenant=tenant, kind_name=args.kind)
    seconds = time.perf_counter() - start
    return {
        "created": result.created,
        "duplicates": result.duplicates,
        "seconds": seconds,
        "bytes": len(raw),
        "rss_before_mb": before,
        "rss_peak_mb": peak_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("export", help="export --rows records of --kind as --user")
    export.add_argument("--tenant", required=True)
    export.add_argument("--user", required=True, help="e-mail of a user who may see the tenant")
    export.add_argument("--kind", default="events")
    export.add_argument("--rows", type=int, default=1_000_000)
    export.add_argument("--format", choices=["json", "csv"], default="csv")
    again = sub.add_parser("restore", help="restore a sealed archive into --tenant")
    again.add_argument("--tenant", required=True)
    again.add_argument("--archive", required=True)
    again.add_argument("--kind", default="audit")
    args = parser.parse_args()
    outcome = export_run(args) if args.command == "export" else restore_run(args)
    print(json.dumps(outcome), flush=True)


if __name__ == "__main__":
    main()
