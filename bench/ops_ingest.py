"""Ingest over HTTP (``bench/ops.py``'s ingest group): real gunicorn workers, concurrent clients posting batches of
events, measured against COPY of the same rows into the same table. It is its own module only for size."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import math
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from authmon import registry
from authmon.models import ApiToken
from bench.harness import Bench, raw_sql
from bench.ops import (
    BATCH,
    CLIENTS,
    INGEST_TARGET,
    PORTS,
    REPO,
    WORKERS,
    _copy_in,
    _copy_text,
    _events_table,
    _fresh_tenant,
    _verdict,
    ingest_rows,
)

# ----------------------------------------------------------------------------------------------------- ingest

EVENT_TYPES = ("login", "login", "login", "login_failed", "logout", "mfa_verified", "token_refreshed", "password_reset")
CLIENTS_NAMES = ("auth ui", "billing portal", "crm", "mobile app")
PROVIDERS = ("google", "local", "azure ad", "okta")


def events_batch(number: int, *, prefix: str, start: dt.datetime, seconds: float) -> list[dict[str, Any]]:
    """Batch ``number`` of realistic events as an identity service sends them; the same batch for the same number."""
    rng = random.Random(number)
    batch = []
    for i in range(number * BATCH, (number + 1) * BATCH):
        person = rng.randrange(50_000)
        batch.append(
            {
                "external_id": f"{prefix}-{i}",
                "event_type": rng.choice(EVENT_TYPES),
                "client_name": rng.choice(CLIENTS_NAMES),
                "provider_name": rng.choice(PROVIDERS),
                "email": f"user{person}@example.com",
                "username": f"user{person}",
                "ip_address": f"198.51.{person % 200}.{1 + person % 253}",
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
                "created_on": (start + dt.timedelta(seconds=rng.random() * seconds)).isoformat(),
                "details": {"session": f"s{rng.randrange(10**9)}", "mfa": rng.random() < 0.3},
            }
        )
    return batch


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"No free port in {PORTS.start}-{PORTS.stop - 1} for the benchmark's gunicorn.")


@contextlib.contextmanager
def gunicorn(log: Path) -> Iterator[tuple[int, int]]:
    """Production's WSGI server on a free local port, with this process's settings; always stopped afterwards.

    Yields the port and the master's process id.

    The API's per-token rate limit is switched off (``AUTHMON_API_RATE_LIMIT=0``): the benchmark measures
    throughput, and 1,000 batches a minute from one token would otherwise meet the default limit of 1,200.
    """
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "bench.settings"),
        "AUTHMON_API_RATE_LIMIT": "0",
    }
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "authmon.wsgi",
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--chdir",
        str(REPO),
        "--timeout",
        "300",
    ]
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{log.read_text()[-3000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/v1/events/")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not answer within 60 s:\n{log.read_text()[-3000:]}") from None
                time.sleep(0.2)
        yield port, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process of this machine so far (0 when it is gone or not readable)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(entry.name))
    return found


def _post(port: int, token: str, body: bytes) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(
            "POST",
            "/api/v1/events/",
            body=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def ingest_measure(bench: Bench) -> None:
    """Events through the HTTP API from two clients, beside COPY FROM STDIN of as many rows."""
    n = ingest_rows(bench)
    batches = math.ceil(n / BATCH)
    n = batches * BATCH
    now = timezone.now()
    # what an identity service sends: its last days (inside the loaded period, whose month partitions exist)
    start = now - dt.timedelta(days=max(1, min(7, bench.args.days - 1)))
    seconds = (now - dt.timedelta(hours=1) - start).total_seconds()
    api_tenant = _fresh_tenant("bench-ingest-api")
    copy_tenant = _fresh_tenant("bench-ingest-copy")
    _, token = ApiToken.issue(tenant=api_tenant, scopes=["ingest"], name="benchmark")

    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "gunicorn.log"
        failures: list[str] = []
        created = [0] * CLIENTS

        def client(index: int, port: int) -> None:
            for number in range(index, batches, CLIENTS):
                if failures:
                    return
                body = json.dumps(events_batch(number, prefix="api", start=start, seconds=seconds)).encode()
                status, answer = _post(port, token, body)
                if status != 201:
                    failures.append(f"batch {number}: HTTP {status} {str(answer)[:300]}")
                    return
                created[index] += answer["created"]

        with gunicorn(log) as (port, master):
            workers = _children(master)
            workers_cpu = sum(_cpu_seconds(pid) for pid in workers)
            client_cpu = time.process_time()
            threads = [threading.Thread(target=client, args=(i, port)) for i in range(CLIENTS)]
            began = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            api_s = time.perf_counter() - began
            client_cpu = time.process_time() - client_cpu
            workers_cpu = sum(_cpu_seconds(pid) for pid in workers) - workers_cpu
            backends = raw_sql(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'"
            )
            database_cpu = sum(_cpu_seconds(pid) for (pid,) in backends)  # the workers' connections, opened for this
            if failures:
                raise RuntimeError(f"ingest failed: {failures[0]}\n{log.read_text()[-2000:]}")
            replay = json.dumps(events_batch(0, prefix="api", start=start, seconds=seconds)).encode()
            status, again = _post(port, token, replay)
        stored = registry.get("events").model.objects.for_tenant(api_tenant).count()
        replay_ok = status == 201 and again.get("duplicates") == BATCH and again.get("created") == 0

        columns = [*events_batch(0, prefix="x", start=start, seconds=1)[0], "tenant_id"]
        data = Path(tmp) / "events.copy"
        with data.open("w", encoding="utf-8") as out:
            for number in range(batches):
                for record in events_batch(number, prefix="copy", start=start, seconds=seconds):
                    values = [*record.values(), copy_tenant.pk]
                    out.write("\t".join(_copy_text(v) for v in values) + "\n")
        with transaction.atomic():
            copy_s = _copy_in(f"COPY {_events_table()} ({', '.join(columns)}) FROM STDIN", data)
    copied = registry.get("events").model.objects.for_tenant(copy_tenant).count()
    raw_sql(f"ANALYZE {_events_table()}")

    rate = n / api_s
    lost = n - stored
    bench.record(
        "ingest",
        f"{n:,} events via HTTP API, batches of {BATCH:,}, {CLIENTS} clients, gunicorn {WORKERS} workers",
        f"{api_s:.1f} s, {rate:,.0f} events/s; stored {stored:,} (lost {lost:,}); replayed batch "
        + ("all duplicates" if replay_ok else f"NOT all duplicates: {again}"),
        f"COPY FROM STDIN: {copy_s:.1f} s, {n / copy_s:,.0f} events/s ({copied:,} stored)",
        f">= {INGEST_TARGET:,} events/s, nothing lost",
        _verdict(rate >= INGEST_TARGET and lost == 0 and sum(created) == n and replay_ok),
        f"CPU seconds over {api_s:.1f} s of wall time on {os.cpu_count()} CPUs: gunicorn workers {workers_cpu:.1f}, "
        f"their PostgreSQL backends {database_cpu:.1f}, the client threads {client_cpu:.1f}",
        events=n,
        seconds=api_s,
        events_per_s=rate,
        stored=stored,
        lost=lost,
        copy_seconds=copy_s,
        copy_events_per_s=n / copy_s,
        gunicorn_cpu_s=workers_cpu,
        postgres_cpu_s=database_cpu,
        client_cpu_s=client_cpu,
    )
