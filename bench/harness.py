"""What every benchmark group shares: the run's state (:class:`Bench`), timing helpers and the final report.

``bench/__main__.py`` builds one :class:`Bench` after loading; ``bench/pages.py`` and ``bench/ops.py`` measure
with it and :meth:`Bench.record` each result, which ends in the printed table and the JSON file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from authmon.models import Tenant, User

GROUPS = ("pages", "nlq", "export", "ingest", "trim", "restore")
PASSWORD = "bench-password-123"  # the benchmark's throw-away accounts


def say(text: str) -> None:
    print(text, flush=True)


@dataclass
class Bench:
    """One benchmark run: its arguments, the loaded tenants, the accounts to measure as, and the results so far."""

    args: argparse.Namespace
    tenants: list[Tenant]
    admin: User  # a TENANT_ADMIN of tenants[0]
    superadmin: User  # a SUPER_ADMIN, also staff and superuser for the Django admin baseline
    results: list[dict[str, Any]] = field(default_factory=list)

    def wants(self, group: str) -> bool:
        """Whether ``--only`` / ``--skip`` select ``group`` (one of :data:`GROUPS`)."""
        if self.args.only and group not in self.args.only:
            return False
        return group not in (self.args.skip or [])

    def record(
        self,
        group: str,
        what: str,
        authmon: str,
        baseline: str = "",
        target: str = "",
        verdict: str = "",
        note: str = "",
        **numbers: float,
    ) -> None:
        """Keep one result row; ``verdict`` is "met", "missed" or "" (no target), ``numbers`` go to the JSON."""
        if verdict not in {"met", "missed", ""}:
            raise ValueError(f"verdict must be met, missed or empty, not {verdict!r}")
        row = {
            "group": group,
            "what": what,
            "authmon": authmon,
            "baseline": baseline,
            "target": target,
            "verdict": verdict,
            "note": note,
            "numbers": {k: round(float(v), 3) for k, v in numbers.items()},
        }
        self.results.append(row)
        say(f"  {what}: {authmon}" + (f" | {baseline}" if baseline else "") + (f" | {verdict}" if verdict else ""))


def sample(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """p50 and p95 wall time of ``fn`` in milliseconds over ``repeat`` runs, after one warm-up run."""
    fn()
    times = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def ms(pair: tuple[float, float]) -> str:
    """A p50/p95 pair as "p50 / p95 ms"."""
    return f"{pair[0]:,.1f} / {pair[1]:,.1f} ms"


def raw_sql(sql: str, params: Any = None) -> list[Any]:
    """Run ``sql`` on Django's connection and fetch every row (nothing for statements without a result)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def machine() -> dict[str, Any]:
    """The machine and PostgreSQL the numbers were measured on."""
    from django.db import connection
    from django.utils import timezone

    settings = {}
    for name in (
        "shared_buffers",
        "work_mem",
        "maintenance_work_mem",
        "effective_cache_size",
        "max_wal_size",
        "random_page_cost",
        "max_parallel_workers_per_gather",
        "jit",
    ):
        settings[name] = raw_sql(f"SHOW {name}")[0][0]
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(memory, 1),
        "python": platform.python_version(),
        "postgresql": raw_sql("SELECT version()")[0][0].split(" on ")[0],
        "postgresql_settings": settings,
        "database": connection.settings_dict["NAME"],
        "date": timezone.now().isoformat(timespec="seconds"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def table_text(results: list[dict[str, Any]]) -> str:
    """The results as one aligned plain-text table."""
    header = ("group", "what", "authmon", "baseline", "target", "verdict")
    rows = [header, *[tuple(str(r[h]) for h in header) for r in results]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report_write(path: Path, *, sizes: dict[str, Any], load: dict[str, Any], results: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"machine": machine(), "sizes": sizes, "load": load, "results": results}
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
