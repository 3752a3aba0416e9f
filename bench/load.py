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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

BENCH_META = "bench_meta"  # one row: the sizes of the loaded data set, written when a load completes
CHUNK_BYTES = 4 << 20
COPY_ROWS = 200_000
SECONDS = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]


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


# ------------------------------------------------------------------------------------------- text for COPY


def esc(value: Any) -> str:
    """A value in COPY's text format (``\\N`` for NULL)."""
    if value is None:
        return "\\N"
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def copy_default(model_field: Any) -> str:
    """The COPY text of a field the generator does not fill: its model default, as Django would insert it."""
    from django.db import models

    value = model_field.get_default()
    if value is None and not model_field.null:
        raise RuntimeError(f"bench/load.py does not generate {model_field.model.__name__}.{model_field.name}")
    if isinstance(model_field, models.JSONField):
        return esc(json.dumps(value))
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "t" if value else "f"
    return esc(None if value is None else str(value))


# ------------------------------------------------------------------------------------------------ value pools

# People's names and browsers come from the demo world (authmon.world), as in the demo data and the factories.
DOMAINS = ["example.com", "example.org", "mail.example.net", "corp.example.com"]
CLIENTS = [
    ("auth ui", 40),
    ("billing portal", 20),
    ("crm", 15),
    ("mobile app", 15),
    ("admin console", 6),
    ("partner api", 4),
]
PROVIDERS = [("local", 50), ("google", 25), ("azure ad", 20), ("okta saml", 5)]
EVENT_TYPES = [
    ("login", 48),
    ("token_refreshed", 15),
    ("logout", 12),
    ("mfa_verified", 8),
    ("login_failed", 6),
    ("session_created", 7),
    ("password_reset", 1.5),
    ("mfa_failed", 1),
    ("account_locked", 0.3),
]
EVENT_DETAILS = {
    "login_failed": [{"reason": "invalid_password"}, {"reason": "unknown_user"}, {"reason": "account_disabled"}],
    "mfa_failed": [{"method": "totp", "reason": "invalid_code"}, {"method": "sms", "reason": "expired_code"}],
    "mfa_verified": [{"method": "totp"}, {"method": "webauthn"}, {"method": "sms"}],
    "account_locked": [{"failures": 5, "lock_minutes": 15}],
    "password_reset": [{"via": "email"}, {"via": "admin"}],
    "login": [{"amr": ["pwd"]}, {"amr": ["pwd", "otp"]}, {"amr": ["federated"]}],
}


def weighted(pairs: list[tuple[Any, float]], rng: random.Random, size: int = 2000) -> list[Any]:
    """A list to pick from uniformly that holds the values in their weights' proportions."""
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights, k=size)


@dataclass
class Person:
    email: str
    username: str
    user_id: str
    ip: str
    browser: str


def people_build(rng: random.Random, count: int = 20_000) -> list[Person]:
    from authmon.world import FIRST_NAMES, LAST_NAMES, USER_AGENTS, ascii_name

    people = []
    for i in range(count):
        first, last = ascii_name(rng.choice(FIRST_NAMES)), ascii_name(rng.choice(LAST_NAMES))
        network = rng.choice([31, 46, 62, 81, 84, 91, 109, 176, 188, 212])
        ip = f"{network}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        people.append(
            Person(
                email=f"{first}.{last}{i}@{rng.choice(DOMAINS)}",
                username=f"{first[0]}{last}{i}",
                user_id=str(100_000 + i),
                ip=ip,
                browser=rng.choice(USER_AGENTS),
            )
        )
    return people


# ------------------------------------------------------------------------------------------------ generators


@dataclass
class Day:
    """One tenant's rows of one day: their times (COPY text, sorted) and epoch seconds."""

    texts: list[str]
    epochs: list[float]


@dataclass
class Gen:
    """Generates one kind's rows as COPY lines of ``fields`` (in that order), for one tenant and day at a time."""

    kind: str
    fields: list[str]
    rows: Callable[[Any, Day], list[str]]  # (tenant state, day) -> lines without the tenant and trailing defaults
    counters: dict[int, int] = field(default_factory=dict)  # rows generated so far per tenant (for unique ids)
    heads: dict[int, tuple[int, str]] = field(default_factory=dict)  # audit: each tenant's last position and hash

    def next_ids(self, tenant_id: int, n: int) -> range:
        first = self.counters.get(tenant_id, 0)
        self.counters[tenant_id] = first + n
        return range(first, first + n)


def iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")


class Pools:
    """Everything the generators pick from, built once per run from a fixed seed (the same data every run)."""

    def __init__(self, seed: int = 8) -> None:
        from authmon.world import USER_AGENTS

        self.rng = random.Random(seed)
        rng = self.rng
        self.people = people_build(rng)
        self.who = [f"{esc(p.email)}\t{esc(p.username)}" for p in self.people]
        self.home = [f"{p.ip}\t{esc(p.browser)}" for p in self.people]
        self.away = [
            f"{rng.choice([5, 37, 45, 77, 95, 103, 185, 193])}.{rng.randrange(256)}.{rng.randrange(256)}."
            f"{rng.randrange(1, 255)}\t{esc(rng.choice(USER_AGENTS))}"
            for _ in range(5000)
        ]
        clients, providers = weighted(CLIENTS, rng), weighted(PROVIDERS, rng)
        contexts = []
        for event_type in weighted(EVENT_TYPES, rng, 5000):
            details = rng.choice(EVENT_DETAILS.get(event_type, [{}]))
            contexts.append(f"{event_type}\t{esc(rng.choice(clients))}\t{esc(rng.choice(providers))}\t{esc(details)}")
        self.event_contexts = contexts


def events_gen(pools: Pools) -> Gen:
    rng, who, home, away, contexts = pools.rng, pools.who, pools.home, pools.away, pools.event_contexts
    n_people = len(who)

    def rows(tenant: Any, day: Day) -> list[str]:
        ids = gen.next_ids(tenant.pk, len(day.texts))
        prefix = f"evt-{tenant.pk}-"
        lines = []
        rand = rng.random
        for i, ts in zip(ids, day.texts, strict=True):
            p = int(rand() * n_people)
            where = home[p] if rand() < 0.85 else away[int(rand() * 5000)]
            lines.append(f"{prefix}{i}\t{contexts[int(rand() * 5000)]}\t{who[p]}\t{where}\t{ts}")
        return lines

    fields = ["external_id", "event_type", "client_name", "provider_name", "details", "email", "username"]
    gen = Gen("events", [*fields, "ip_address", "user_agent", "created_on"], rows)
    return gen


NOTIFICATIONS = {
    "invitation": ["You have been invited to {org}", "Your invitation to {org} expires soon"],
    "password_reset": ["Password reset", "Reset your {org} password"],
    "mfa_enrollment": ["Set up two-factor authentication", "TOTP reset"],
    "access_request": ["Access request for {app}", "Your access to {app} was approved"],
    "alert": ["New sign-in to your account", "Your account was locked", "Unusual sign-in activity"],
    "system": ["Scheduled maintenance on Sunday", "Export ready for download"],
    "welcome": ["Welcome to {org}", "Getting started with {org}"],
}
APPS = ["billing portal", "crm", "mobile app", "partner api", "admin console", "auth ui"]


def notifications_gen(pools: Pools) -> Gen:
    rng, people = pools.rng, pools.people
    categories = weighted(
        [("alert", 25), ("password_reset", 20), ("invitation", 15), ("welcome", 15), ("mfa_enrollment", 10),
         ("access_request", 10), ("system", 5)], rng)  # fmt: skip
    statuses = weighted([("sent", 90), ("pending", 4), ("failed", 3.5), ("bounced", 2.5)], rng)
    templates = []
    for category in categories[:500]:
        subject = rng.choice(NOTIFICATIONS[category]).format(org="Example Corp", app=rng.choice(APPS))
        body = f"Hello,\n\n{subject}.\n\nIf this was not you, contact your administrator.\n"
        templates.append(f"{esc(subject)}\t{category}\t{esc(body)}")

    def rows(tenant: Any, day: Day) -> list[str]:
        ids = gen.next_ids(tenant.pk, len(day.texts))
        lines = []
        for i, ts in zip(ids, day.texts, strict=True):
            person = people[rng.randrange(len(people))]
            cc = esc(people[rng.randrange(len(people))].email) if rng.random() < 0.05 else ""
            lines.append(
                f"ntf-{tenant.pk}-{i}\t{rng.choice(templates)}\t{esc(person.email)}\t{cc}\t\t{ts}\t{rng.choice(statuses)}"
            )
        return lines

    gen = Gen("notifications", ["external_id", "subject", "category", "body", "recipient", "cc", "bcc", "timestamp",
                                "status"], rows)  # fmt: skip
    return gen


JOBS = {
    "trim": ["nightly retention trim"],
    "email": ["send notification e-mails", "digest e-mail"],
    "import": ["import users from CSV", "import groups from LDAP"],
    "export": ["export audit logs", "export event logs"],
    "archive": ["archive events to cold storage"],
    "sync": ["sync Azure AD directory", "sync Google Workspace directory", "sync Okta users"],
    "cleanup": ["expired session cleanup", "expired grant cleanup"],
}
STACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/authmon/jobs/runner.py", line 88, in run\n    result = task(**kwargs)\n'
    '  File "/srv/authmon/sync/azure.py", line 214, in sync_users\n    page = client.get(url, timeout=30)\n'
    "TimeoutError: The read operation timed out\n"
)


def jobs_gen(pools: Pools) -> Gen:
    rng = pools.rng
    types = weighted([("sync", 30), ("email", 25), ("cleanup", 15), ("trim", 8), ("export", 10), ("import", 7),
                      ("archive", 5)], rng)  # fmt: skip
    statuses = weighted([("success", 92), ("failed", 4), ("pending", 2.5), ("running", 1.5)], rng)
    messages = {
        "success": "Finished: {n} records processed.",
        "failed": "Failed after {n} records: TimeoutError",
        "pending": "Queued.",
        "running": "Processed {n} records so far.",
    }

    def rows(tenant: Any, day: Day) -> list[str]:
        ids = gen.next_ids(tenant.pk, len(day.texts))
        lines = []
        for i, ts, epoch in zip(ids, day.texts, day.epochs, strict=True):
            job_type, status = rng.choice(types), rng.choice(statuses)
            n = rng.randrange(1, 50_000)
            updated = iso(epoch + rng.uniform(0.2, 900)) if status != "pending" else ts
            details = esc({"processed": n, "worker": f"celery@worker-{rng.randrange(1, 5)}"})
            lines.append(
                f"{tenant.pk:x}-{i:08x}-{rng.getrandbits(48):012x}\t{esc(rng.choice(JOBS[job_type]))}\t{job_type}\t"
                f"{esc(messages[status].format(n=n))}\t{status}\t{ts}\t{updated}\t"
                f"{esc(STACK) if status == 'failed' else ''}\t{details}"
            )
        return lines

    gen = Gen("jobs", ["job_id", "job_name", "job_type", "message", "latest_status", "created_at", "updated_at",
                       "stacktrace", "details"], rows)  # fmt: skip
    return gen


def access_gen(pools: Pools, kind: str, now: dt.datetime) -> Gen:
    """Sessions (8-hour lifetime) or grants (90 days): active until they expire, a few revoked."""
    rng, people = pools.rng, pools.people
    now_epoch = now.timestamp()
    lifetime = 8 * 3600 if kind == "sessions" else 90 * 86400
    clients = weighted(CLIENTS, rng)
    providers = weighted(PROVIDERS, rng)
    scopes = [["openid", "profile"], ["openid", "profile", "email"], ["openid", "offline_access"], ["api:read"]]

    def rows(tenant: Any, day: Day) -> list[str]:
        ids = gen.next_ids(tenant.pk, len(day.texts))
        lines = []
        for i, ts, epoch in zip(ids, day.texts, day.epochs, strict=True):
            person = people[rng.randrange(len(people))]
            expires = epoch + lifetime
            revoked = rng.random() < 0.05
            if revoked:
                status, revoked_at = "revoked", iso(min(now_epoch, epoch + rng.uniform(60, 3600)))
            else:
                status, revoked_at = ("active" if expires > now_epoch or rng.random() < 0.3 else "expired"), "\\N"
            client = esc(rng.choice(clients))
            if kind == "sessions":
                protocol = "SAML" if rng.random() < 0.2 else "OIDC"
                details = esc({"ip": person.ip, "user_agent": person.browser})
                lines.append(
                    f"s{tenant.pk:x}{i:09x}{rng.getrandbits(40):010x}\t{protocol}\t{client}\t{person.user_id}\t"
                    f"{esc(person.email)}\t{ts}\t{iso(expires)}\t{status}\t{details}\t{revoked_at}"
                )
            else:
                details = esc({"scopes": rng.choice(scopes)})
                lines.append(
                    f"g{tenant.pk:x}{i:09x}{rng.getrandbits(40):010x}\t{esc(person.email)}\t{person.user_id}\t"
                    f"{esc(rng.choice(providers))}\t{client}\ts{rng.getrandbits(64):016x}\t{ts}\t{iso(expires)}\t"
                    f"{status}\t{details}\t{revoked_at}"
                )
        return lines

    if kind == "sessions":
        fields = ["session_id", "protocol", "client_id", "user_id", "email", "created_at", "expires_at", "status",
                  "details", "revoked_at"]  # fmt: skip
    else:
        fields = ["grant_id", "email", "user_id", "provider", "client", "session_id", "created_at", "expires_at",
                  "status", "details", "revoked_at"]  # fmt: skip
    gen = Gen(kind, fields, rows)
    return gen


RESOURCES = ["User", "Group", "Role", "Application", "IdentityProvider", "Permission", "TenantSettings", "Template"]


def entity_pairs(rng: random.Random, people: list[Person]) -> list[tuple[str, str, Any, Any]]:
    """(action, target, old, new) examples, masked as the model masks them on write."""
    from authmon.security.masking import mask

    pairs = []
    for _ in range(600):
        rtype = rng.choice(RESOURCES)
        person = rng.choice(people)
        name = person.email if rtype == "User" else f"{rtype.lower()}-{rng.randrange(200)}"
        state = {
            "name": name,
            "enabled": True,
            "roles": rng.sample(["viewer", "editor", "admin", "billing", "support"], k=rng.randrange(1, 3)),
            "settings": {"session_minutes": rng.choice([30, 60, 480]), "mfa_required": rng.random() < 0.5},
        }
        if rtype == "Application":
            state["client_secret"] = "s3cr3t-" + str(rng.randrange(10**6))  # masked before storage
        verb = rng.choices(["update", "create", "delete", "enable", "disable"], weights=[70, 15, 5, 5, 5])[0]
        changed = json.loads(json.dumps(state))
        if verb == "update":
            changed["settings"]["session_minutes"] = rng.choice([15, 120, 720])
            changed["roles"] = [*changed["roles"], "auditor"]
        elif verb in {"enable", "disable"}:
            state["enabled"], changed["enabled"] = verb == "disable", verb == "enable"
        old = None if verb == "create" else state
        new = None if verb == "delete" else changed
        pairs.append((f"{verb} {rtype}", name, mask(old), mask(new)))
    return pairs


def audit_gen(pools: Pools) -> Gen:
    """Audit records linked into each tenant's hash chain exactly as ``audit.chain.chain_append`` links them."""
    from audit import chain
    from audit.diff import compute_diff
    from audit.models import AuditLog

    rng, people = pools.rng, pools.people
    hashed = chain.hashed_fields(AuditLog)  # name -> model field, in the hash's order
    examples = []
    for action, target, old, new in entity_pairs(rng, people):
        diff = compute_diff(old, new)
        texts = {name: chain.field_text(hashed[name], value) for name, value in
                 (("old_entity", old), ("new_entity", new), ("diff", diff))}  # fmt: skip
        examples.append((action, target, old, new, diff, texts))
    admins = [p.email for p in people[:40]]
    clients = weighted([("admin console", 85), ("terraform", 8), ("scim", 5), ("api", 2)], rng)
    comments = ["", "", "", "", "ticket OPS-1432", "requested by the security team", "quarterly access review"]
    generated = {"action", "target", "actor", "subject", "client_actor", "timestamp", "old_entity", "new_entity",
                 "diff", "comments", "seq", "tenant", "external_id"}  # fmt: skip
    defaults = {name: model_field.get_default() for name, model_field in hashed.items() if name not in generated}

    def rows(tenant: Any, day: Day) -> list[str]:
        heads = gen.heads
        seq, prev = heads.get(tenant.pk, (0, chain.GENESIS))
        slug = chain.field_text(hashed["tenant"], tenant.slug)
        lines = []
        for ts in day.texts:
            action, target, old, new, diff, texts = examples[rng.randrange(len(examples))]
            seq += 1
            values = {
                "action": action,
                "target": target,
                "actor": rng.choice(admins),
                "subject": target if action.endswith(" User") else "",
                "client_actor": rng.choice(clients),
                "comments": rng.choice(comments),
                "external_id": None,
                **defaults,
            }
            row = {}
            for name, model_field in hashed.items():
                if name in texts:
                    row[name] = texts[name]
                elif name == "timestamp":  # COPY's time text is UTC already: no parsing per row
                    row[name] = f'"{ts[:10]}T{ts[11:26]}Z"'
                elif name == "tenant":
                    row[name] = slug
                else:
                    row[name] = chain.field_text(model_field, seq if name == "seq" else values[name])
            digest = chain.record_hash_row(prev, row)
            if seq == 1 or seq % 10_000 == 0:  # the fast path must agree with the chain's own hash
                full = {**values, "timestamp": ts, "old_entity": old, "new_entity": new, "diff": diff, "seq": seq,
                        "tenant": tenant.slug}  # fmt: skip
                if chain.record_hash(prev, full, AuditLog) != digest:
                    raise RuntimeError("bench/load.py's audit hash differs from audit.chain.record_hash")
            lines.append(
                "\t".join(
                    [
                        esc(action),
                        esc(target),
                        esc(values["actor"]),
                        esc(values["subject"]),
                        esc(values["client_actor"]),
                        esc(values["comments"]),
                        ts,
                        "\\N" if old is None else esc(texts["old_entity"]),  # SQL NULL, as Django stores None
                        "\\N" if new is None else esc(texts["new_entity"]),
                        esc(texts["diff"]),
                        str(seq),
                        prev,
                        digest,
                        *(copy_default(hashed[name]) for name in defaults),
                    ]
                )
            )
            prev = digest
        heads[tenant.pk] = (seq, prev)
        return lines

    fields = ["action", "target", "actor", "subject", "client_actor", "comments", "timestamp", "old_entity",
              "new_entity", "diff", "seq", "prev_hash", "hash", *defaults]  # fmt: skip
    gen = Gen("audit", fields, rows)
    return gen


def audit_heads_write(gen: Gen, tenants: list[Any]) -> None:
    """Set each tenant's chain head (last position and hash, signed) as ``chain_append`` leaves it."""
    from audit import chain
    from audit.models import AuditChain

    for tenant in tenants:
        seq, last = gen.heads.get(tenant.pk, (0, chain.GENESIS))
        head = AuditChain(tenant=tenant, last_seq=seq, last_hash=last)
        chain.head_sign(head, tenant.slug)
        AuditChain.objects.update_or_create(
            tenant=tenant,
            defaults={"last_seq": seq, "last_hash": last, "anchor_seq": 0, "anchor_hash": chain.GENESIS,
                      "key_id": head.key_id, "signature": head.signature},
        )  # fmt: skip


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
