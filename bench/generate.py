"""The bench data set's rows, generated in Python (``bench/load.py`` copies them in): value pools built once from a
fixed seed, and one generator per kind yielding COPY text lines, day by day, every tenant's rows of a day in time
order. Audit rows form each tenant's hash chain as they are made (``audit.chain.record_hash_row``)."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SECONDS = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]


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
