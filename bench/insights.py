"""Benchmark of the security detections (issue 10): evaluating all of them on a tenant with 1,000,000 events.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/authmon_bench \
        SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))') \
        python bench/insights.py --rows 1000000 [--keep] [--repeat 5]

Loads a throw-away tenant (``bench-insights``) with ``--rows`` events over 30 days in ``bulk_create`` batches, plus
sessions, audit records, jobs and e-mails in proportion (so every detection has real work), with a few planted
attacks. Then times ``findings_evaluate`` over the whole 30 days, the way the Insights page and the alert job call
it: median of ``--repeat`` runs after a warm-up, and each detection's share. The Insights page's charts are timed
too, for information. Results are recorded in bench/README.md. The tenant and its rows are deleted afterwards
unless ``--keep``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authmon.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from audit.models import AuditLog  # noqa: E402
from authmon.daterange import DateRange  # noqa: E402
from authmon.models import Tenant  # noqa: E402
from events.models import EventLog  # noqa: E402
from insights.selectors import insights_charts  # noqa: E402
from insights.services import findings_evaluate  # noqa: E402
from jobs.models import JobLog  # noqa: E402
from notifications.models import NotificationLog  # noqa: E402
from sessions_grants.models import Session  # noqa: E402

SLUG = "bench-insights"
DAYS = 30
BATCH = 10_000
EVENT_MIX = (
    ("login", 30),
    ("session_created", 30),
    ("token_refreshed", 19),
    ("logout", 8),
    ("login_failed", 6),
    ("mfa_verified", 4),
    ("mfa_failed", 1),
    ("password_reset", 1.5),
    ("account_locked", 0.5),
)
TABLES = (
    "events_eventlog",
    "sessions_grants_session",
    "audit_auditlog",
    "jobs_joblog",
    "notifications_notificationlog",
)
AGENTS = [f"Mozilla/5.0 (bench; agent {n}) Chrome/124.0" for n in range(12)] + ["AuthMobile/4.2.1", "curl/8.5.0"]


class Loader:
    """Writes one kind's rows in batches."""

    def __init__(self, model) -> None:
        self.model, self.rows, self.count = model, [], 0

    def add(self, row) -> None:
        self.rows.append(row)
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.model.objects.bulk_create(self.rows, batch_size=BATCH)
            self.count += len(self.rows)
            self.rows = []


def load(tenant: Tenant, rows: int, now: dt.datetime) -> dict[str, int]:
    rng = random.Random(10)
    users = [f"user{n}@bench.example" for n in range(max(1000, rows // 50))]
    home = {u: [f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"] for u in users}
    agent = {u: rng.choice(AGENTS[:12]) for u in users}
    types, weights = zip(*EVENT_MIX, strict=True)
    span = DAYS * 24 * 3600
    events, sessions = Loader(EventLog), Loader(Session)
    audits, jobs, mails = Loader(AuditLog), Loader(JobLog), Loader(NotificationLog)

    def ev(kind: str, when: dt.datetime, email: str, ip: str, ua: str) -> None:
        events.add(
            EventLog(
                tenant=tenant,
                event_type=kind,
                client_name="auth ui",
                provider_name="local",
                email=email,
                ip_address=ip,
                user_agent=ua,
                created_on=when,
                details={},
            )
        )

    # Planted attacks: a brute-force burst, credential stuffing from one IP, a login from a new IP after a reset.
    burst = now - dt.timedelta(days=3)
    for n in range(40):
        ev("login_failed", burst + dt.timedelta(seconds=7 * n), users[7], "198.51.100.77", "python-requests/2.31.0")
    stuffing = now - dt.timedelta(days=5)
    for n in range(60):
        ev(
            "login_failed",
            stuffing + dt.timedelta(seconds=20 * n),
            f"leaked{n}@bench.example",
            "203.0.113.66",
            "curl/8.5.0",
        )
    reset = now - dt.timedelta(days=1)
    ev("password_reset", reset, users[9], home[users[9]][0], agent[users[9]])
    ev("login", reset + dt.timedelta(minutes=5), users[9], "192.0.2.99", "curl/8.5.0")
    planted = len(events.rows)

    for n in range(rows - planted):
        email = users[rng.randrange(100)] if rng.random() < 0.2 else rng.choice(users)  # some people are busier
        kind = rng.choices(types, weights=weights)[0]
        when = now - dt.timedelta(seconds=rng.randrange(span))
        ip = home[email][0] if rng.random() < 0.9 else f"192.0.2.{rng.randrange(1, 255)}"
        ev(kind, when, email, ip, agent[email])
        if kind == "session_created" and n % 10 == 0:
            sessions.add(
                Session(
                    tenant=tenant,
                    session_id=f"bench-{n}",
                    protocol="OIDC",
                    client_id="auth ui",
                    user_id=email,
                    email=email,
                    created_at=when,
                    expires_at=when + dt.timedelta(hours=12),
                    status="active",
                    details={"ip_address": ip},
                )
            )
        if n % 50 == 0:
            verb = rng.choices(["update", "create", "delete", "enable"], weights=[70, 15, 10, 5])[0]
            audits.add(
                AuditLog(
                    tenant=tenant,
                    action=f"{verb} {rng.choice(['User', 'Group', 'Application', 'Role'])}",
                    target=f"resource {n}",
                    actor=f"admin{rng.randrange(8)}@bench.example",
                    client_actor="admin console",
                    timestamp=when,
                    old_entity={"n": n},
                    new_entity={"n": n + 1},
                    diff={"n": {"_old": n, "_new": n + 1}},
                )
            )
        if n % 200 == 0:
            status = "failed" if rng.random() < 0.07 else "success"
            jobs.add(
                JobLog(
                    tenant=tenant,
                    job_id=f"bench-{n}",
                    job_name=rng.choice(["audit log trim", "sync Okta groups", "send digest emails", "nightly export"]),
                    job_type="trim",
                    latest_status=status,
                    created_at=when,
                    updated_at=when,
                    message="boom" if status == "failed" else "ok",
                )
            )
        if n % 50 == 25:
            roll = rng.random()
            mails.add(
                NotificationLog(
                    tenant=tenant,
                    subject="Password reset",
                    recipient=email,
                    timestamp=when,
                    status="failed" if roll < 0.04 else "bounced" if roll < 0.07 else "sent",
                    category=rng.choice(["password_reset", "alert", "welcome", "invitation"]),
                )
            )
    for loader in (events, sessions, audits, jobs, mails):
        loader.flush()
    if connection.vendor == "postgresql":
        # Index-only scans (the detections' partial index) need the visibility map that VACUUM writes; in
        # production autovacuum keeps it current, after a bulk load it has not run yet.
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"VACUUM ANALYZE {table}")
    return {
        "events": events.count,
        "sessions": sessions.count,
        "audit": audits.count,
        "jobs": jobs.count,
        "notifications": mails.count,
    }


def delete(tenant: Tenant) -> None:
    AuditLog.objects.for_tenant(tenant).purge_expired()
    for model in (EventLog, Session, JobLog, NotificationLog):
        model.objects.for_tenant(tenant).delete()
    tenant.delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000, help="events to load")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark tenant and its rows")
    args = parser.parse_args()

    now = timezone.now()
    tenant, _created = Tenant.objects.get_or_create(slug=SLUG, defaults={"name": "Bench insights", "timezone": "UTC"})
    have = EventLog.objects.for_tenant(tenant).count()
    if have < args.rows:
        if have:
            delete(tenant)
            tenant = Tenant.objects.create(slug=SLUG, name="Bench insights", timezone="UTC")
        started = time.perf_counter()
        counts = load(tenant, args.rows, now)
        print(f"loaded {counts} in {time.perf_counter() - started:.1f} s")
    start = now - dt.timedelta(days=DAYS + 1)

    def evaluate():
        return findings_evaluate(tenant=tenant, start=start, end=now + dt.timedelta(minutes=1), now=now)

    results = evaluate()  # warm-up
    samples, per_detection = [], {r.spec.name: [] for r in results}
    for _ in range(args.repeat):
        began = time.perf_counter()
        results = evaluate()
        samples.append(time.perf_counter() - began)
        for result in results:
            per_detection[result.spec.name].append(result.seconds)
    period = DateRange(start, None, "bench", None)
    began = time.perf_counter()
    insights_charts(tenant, period, now=now)
    charts = time.perf_counter() - began

    print(f"\nbackend: {connection.vendor}, events in tenant: {EventLog.objects.for_tenant(tenant).count():,}")
    print(f"{'all detections, 30 days (median of ' + str(args.repeat) + ')':45s} {statistics.median(samples):8.2f} s")
    print(f"{'  slowest run':45s} {max(samples):8.2f} s")
    for result in results:
        print(
            f"  {result.spec.name:43s} {statistics.median(per_detection[result.spec.name]) * 1000:8.0f} ms"
            f"   {len(result.findings):3d} findings"
        )
    print(f"{'insights page charts, 30 days (one run)':45s} {charts:8.2f} s")
    if not args.keep:
        delete(tenant)


if __name__ == "__main__":
    main()
