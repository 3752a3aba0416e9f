"""Peak memory of one export in a fresh process: the streamed JSON or CSV export of N rows of one tenant.

    DATABASE_URL=... SECRET_KEY=x python bench/export_memory.py --tenant bench --rows 1000000 --format json

Run after ``bench/run.py --keep`` has loaded the bench tenant. Reports the wall time, the output size, and the
process's peak RSS (``ru_maxrss``) before and after the export; the export runs through ``exports.export_to_file``,
the same code as the export job.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authmon.settings")

import django

django.setup()

from authmon import exports, registry  # noqa: E402
from authmon.models import Tenant  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenant", default="bench")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--format", choices=["json", "csv"], default="json")
    args = parser.parse_args()
    kind = registry.get("events")
    tenant = Tenant.objects.get(slug=args.tenant)
    queryset = kind.model.objects.for_tenant(tenant).order_by("-created_on", "-pk")
    table = kind.table([])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"export.{args.format}"
        start = time.perf_counter()
        count = exports.export_to_file(
            kind=kind,
            queryset=queryset,
            tenant_slug=tenant.slug,
            filters={},
            fmt=args.format,
            limit=args.rows,
            columns=exports.export_columns(table),
            path=path,
        )
        seconds = time.perf_counter() - start
        size = path.stat().st_size
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{args.format} export of {count:,} rows: {seconds:.1f} s, {size / 1e6:.0f} MB written")
    print(f"peak RSS: {before / 1024:.0f} MB before, {after / 1024:.0f} MB after")


if __name__ == "__main__":
    main()
