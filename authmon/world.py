"""The demo world: the people, applications, addresses and clock that every kind's demo data is made over.

Each kind's app makes its own demo records (``<app>/demo.py``, a :class:`DemoBuilder` registered as the kind's
``LogKind.demo_builder``); ``console.demo`` composes them per tenant. They share one :class:`DemoTenant` per tenant:
its seeded random generator, its clock ("now", the last 30 days, office hours in the tenant's zone), its people and
admins, and the unsaved rows made so far by kind, so that a login event and the session it opens agree on the
person, the time and the session id. This module knows no kind: it imports no kind app.

The catalogs (names, applications, user agents, providers) are also what the test factories and the benchmark loader
draw from, so every generator of test data speaks of the same world.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from authmon.models import Tenant

DAYS = 30  # the demo window: records of the last 30 days

# The guide's example person: failed logins, MFA events yesterday, a failed password-reset e-mail, sessions, grants.
GUIDE_EMAIL = "user@example.com"
GUIDE_USER_ID = "123"
OFFICE_IP = "192.168.1.1"  # the guide's "failed logins from IP 192.168.1.1"
BRUTE_FORCE_IP = "198.51.100.77"
STUFFING_IP = "203.0.113.66"
MASKED = "***"  # how the identity service shows secret values in audit snapshots


class DemoDataError(ValueError):
    """The requested demo data cannot be made (bad arguments)."""


# --------------------------------------------------------------------------------------------------------------
# Catalogs
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TenantSpec:
    """One demo tenant: identity, time zone, the e-mail domain of its people and where they sign in from."""

    slug: str
    name: str
    timezone: str
    domain: str
    countries: tuple[tuple[str, str, int], ...]  # (country code, city, weight)


_TENANT_SPECS: tuple[TenantSpec, ...] = (
    TenantSpec(
        "acme",
        "Acme Corp",
        "Europe/Berlin",
        "example.com",
        (("DE", "Berlin", 40), ("DE", "Munich", 20), ("AT", "Vienna", 8), ("NL", "Amsterdam", 8), ("US", "Boston", 6)),
    ),
    TenantSpec(
        "globex",
        "Globex Corporation",
        "America/New_York",
        "example.org",
        (
            ("US", "New York", 40),
            ("US", "Chicago", 20),
            ("CA", "Toronto", 10),
            ("GB", "London", 6),
            ("MX", "Monterrey", 4),
        ),
    ),
    TenantSpec(
        "initech",
        "Initech",
        "Asia/Tokyo",
        "example.net",
        (("JP", "Tokyo", 50), ("JP", "Osaka", 15), ("KR", "Seoul", 8), ("US", "San Jose", 6)),
    ),
    TenantSpec(
        "umbrella",
        "Umbrella Health",
        "Australia/Sydney",
        "umbrella.example",
        (("AU", "Sydney", 45), ("AU", "Melbourne", 20), ("NZ", "Auckland", 8), ("SG", "Singapore", 5)),
    ),
)


def demo_tenant_specs(count: int) -> list[TenantSpec]:
    """The first ``count`` demo tenants: four named ones, then ``demo-5``, ``demo-6``..."""
    specs = list(_TENANT_SPECS[:count])
    for number in range(len(specs) + 1, count + 1):
        specs.append(
            TenantSpec(
                f"demo-{number}",
                f"Demo Tenant {number}",
                "UTC",
                f"tenant{number}.example",
                (("US", "Seattle", 30), ("GB", "London", 20), ("FR", "Paris", 15), ("DE", "Hamburg", 10)),
            )
        )
    return specs


@dataclass(frozen=True)
class App:
    """An application (OAuth/OIDC client or SAML service provider) that the tenant's people sign in to."""

    name: str
    protocol: str  # "OIDC" or "SAML" (sessions_grants.models.Protocol)
    scopes: tuple[str, ...]
    grant_days: int  # lifetime of its grants; refresh tokens only with offline_access
    weight: int
    slug: str


APPS: tuple[App, ...] = (
    App("auth ui", "OIDC", ("openid", "profile", "email", "offline_access"), 30, 30, "auth-ui"),
    App("auth ui beta", "OIDC", ("openid", "profile", "email", "offline_access"), 30, 6, "auth-ui-beta"),
    App("billing portal", "OIDC", ("openid", "email", "billing:read", "billing:write"), 7, 15, "billing-portal"),
    App("admin console", "OIDC", ("openid", "profile", "email", "admin"), 1, 5, "admin-console"),
    App("mobile app", "OIDC", ("openid", "profile", "email", "offline_access"), 90, 14, "mobile-app"),
    App("partner api", "OIDC", ("openid", "api:read", "api:write", "offline_access"), 30, 4, "partner-api"),
    App("hr portal", "SAML", (), 0, 8, "hr-portal"),
    App("support desk", "SAML", (), 0, 6, "support-desk"),
)
APP_BY_NAME = {app.name: app for app in APPS}

PROVIDERS: tuple[tuple[str, int], ...] = (("google", 35), ("azure ad", 28), ("local", 22), ("okta", 15))
MFA_METHODS: tuple[tuple[str | None, int], ...] = (("totp", 45), ("webauthn", 20), ("sms", 10), (None, 25))

USER_AGENTS: tuple[str, ...] = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
    "Safari/605.1.15",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 "
    "Edg/124.0.2478.80",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile "
    "Safari/537.36",
    "AuthMobile/4.2.1 (iPhone; iOS 17.4.1; Scale/3.00)",
    "AuthMobile/4.2.0 (Android 14; Pixel 7)",
)
ATTACK_USER_AGENTS: tuple[str, ...] = (
    "python-requests/2.31.0",
    "curl/8.5.0",
    "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:47.0) Gecko/20100101 Firefox/47.0",
)

FIRST_NAMES: tuple[str, ...] = (
    "Alice", "Bob", "Carol", "David", "Emma", "Felix", "Grace", "Hannah", "Isaac", "Julia", "Karim", "Lena", "Marco",
    "Nina", "Oscar", "Priya", "Quentin", "Rosa", "Samuel", "Tara", "Umar", "Vera", "Walter", "Xenia", "Yusuf", "Zoe",
    "Aiko", "Ben", "Chloe", "Diego", "Elif", "Farah", "Georg", "Hiro", "Ines", "Jonas", "Kai", "Liam", "Mia", "Noah",
    "Olga", "Pablo", "Ravi", "Sofia", "Tom", "Uma", "Viktor", "Wen", "Yara", "Jordan", "Morgan", "Sasha", "Robin",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Smith", "Schmidt", "Garcia", "Müller", "Chen", "Nguyen", "Kowalski", "Rossi", "Okafor", "Tanaka", "Johnson",
    "Fischer", "Martin", "Silva", "Haddad", "Novak", "Larsen", "Dubois", "Weber", "Kim", "Patel", "Lee", "Brown",
    "Wagner", "Lopez", "Ivanova", "Sato", "Kaya", "Andersen", "Moreau", "Becker", "Costa", "Walsh", "Yilmaz",
    "Hoffmann", "Suzuki", "Ortiz", "Nakamura", "Keller", "Bauer", "Evans", "Clarke", "Jansen", "Meyer", "Park", "Reyes",
)  # fmt: skip

HOUR_WEIGHTS: tuple[float, ...] = (
    0.4, 0.3, 0.2, 0.2, 0.3, 0.6, 1.5, 4, 9, 12, 11, 10, 8, 10, 11, 10, 9, 7, 4, 3, 2.5, 2, 1.2, 0.7,
)  # fmt: skip

_TRANSLATE = str.maketrans({"ü": "ue", "ö": "oe", "ä": "ae", "ß": "ss"})


def ascii_name(name: str) -> str:
    """A name as it appears in an e-mail address: lower case, umlauts spelled out (Müller: mueller)."""
    return name.lower().translate(_TRANSLATE)


# --------------------------------------------------------------------------------------------------------------
# One tenant's world
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Person:
    """Someone who signs in to the tenant's applications through the identity service."""

    user_id: str
    email: str
    username: str
    name: str
    provider: str
    apps: list[str]
    ips: list[str]
    agents: list[str]
    country: str
    city: str
    mfa: str | None
    weight: float  # how often they sign in, relative to the others


class DemoTenant:
    """One tenant's demo world, shared by the kinds' builders: rng, clock, people, and the rows made so far.

    Every random draw of every builder comes from ``rng`` (seeded with the seed and the tenant), in a fixed order, so
    the same seed and ``now`` give the same records. ``rows`` holds the unsaved model instances by kind name;
    ``targets`` the row budget of each kind once the scripted scenarios are in (set by the composer).
    """

    def __init__(self, *, spec: TenantSpec, tenant: Tenant, rows: int, rng: random.Random, now: dt.datetime) -> None:
        self.spec, self.tenant, self.total, self.rng, self.now = spec, tenant, rows, rng, now
        self.tz = tenant.tz
        self.domain = spec.domain
        self.rows: dict[str, list[Any]] = {}
        self.targets: dict[str, int] = {}
        hour = now.replace(minute=0, second=0, microsecond=0)
        self.slots = [hour - dt.timedelta(hours=h) for h in range(DAYS * 24)]
        busy, flat = [], []
        for slot in self.slots:
            local = slot.astimezone(self.tz)
            busy.append(HOUR_WEIGHTS[local.hour] * (0.3 if local.weekday() >= 5 else 1.0))
            flat.append(1.0)
        self.busy_cum = cumulative(busy)  # office hours in the tenant's zone, quieter at weekends
        self.flat_cum = cumulative(flat)  # around the clock (scheduled jobs)
        self.admins = [
            f"{name}@{self.domain}"
            for name in ("alice.admin", "bob.ops", "carol.security", "dmitri.it", "erin.helpdesk")
        ]
        self.people: list[Person] = []
        self.people_cum: list[float] = []
        self.by_email: dict[str, Person] = {}
        self.guide = self.people_build()

    # ---- rows ----------------------------------------------------------------------------------------------------

    def add(self, kind: str, obj: Any) -> Any:
        """Queue an unsaved record of ``kind``."""
        self.rows.setdefault(kind, []).append(obj)
        return obj

    def count(self, *kinds: str) -> int:
        return sum(len(self.rows.get(kind, ())) for kind in kinds)

    def room(self, kind: str) -> bool:
        """Whether ``kind`` is still under its budget (optional records of it may be added)."""
        return self.count(kind) < self.targets.get(kind, 0)

    # ---- random values -------------------------------------------------------------------------------------------

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hexid(self, length: int = 16) -> str:
        return f"{self.rng.getrandbits(length * 4):0{length}x}"

    def location(self) -> tuple[str, str]:
        country, city, _ = self.rng.choices(self.spec.countries, weights=[c[2] for c in self.spec.countries])[0]
        return country, city

    def office_ip(self) -> str:
        return office_ip(self.rng)

    def home_ip(self) -> str:
        return home_ip(self.rng)

    def person(self) -> Person:
        """Someone, the more active the likelier."""
        return self.rng.choices(self.people, cum_weights=self.people_cum)[0]

    # ---- clock ---------------------------------------------------------------------------------------------------

    def local(self, days_ago: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
        """A wall-clock time in the tenant's zone ``days_ago`` days before today, never later than now."""
        day = self.now.astimezone(self.tz).date() - dt.timedelta(days=days_ago)
        moment = dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=self.tz).astimezone(dt.UTC)
        return min(moment, self.now - dt.timedelta(minutes=2))

    def day_at(self, day: dt.date, hour: int, minute: int) -> dt.datetime:
        """``hour:minute`` on ``day`` in the tenant's zone, never later than now."""
        moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.tz).astimezone(dt.UTC)
        return min(moment, self.now - dt.timedelta(minutes=2))

    def ago(self, **delta: float) -> dt.datetime:
        return self.now - dt.timedelta(**delta)

    def pick_time(self, cum: list[float], margin_minutes: float = 5) -> dt.datetime:
        """A random moment of the window, hours weighted by ``cum`` (``busy_cum`` or ``flat_cum``)."""
        slot = self.rng.choices(self.slots, cum_weights=cum)[0]
        moment = slot + dt.timedelta(seconds=self.rng.random() * 3600)
        latest = self.now - dt.timedelta(minutes=margin_minutes)
        if moment > latest:
            moment = latest - dt.timedelta(seconds=self.rng.random() * 1800)
        return moment

    # ---- people --------------------------------------------------------------------------------------------------

    def people_build(self) -> Person:
        """The tenant's people (a few hundred, by the row budget), then the guide's user; returns the latter."""
        rng = self.rng
        count = max(60, min(400, self.total // 40))
        ids = rng.sample(range(1000, 100_000), count)
        providers, provider_weights = zip(*PROVIDERS, strict=True)
        mfa_methods, mfa_weights = zip(*MFA_METHODS, strict=True)
        app_names = [app.name for app in APPS]
        app_weights = [app.weight for app in APPS]
        used: set[str] = {GUIDE_EMAIL}
        for index in range(count):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            ascii_first, ascii_last = ascii_name(first), ascii_name(last)
            local_part = rng.choice([f"{ascii_first}.{ascii_last}", f"{ascii_first[0]}{ascii_last}", ascii_first])
            email = f"{local_part}@{self.domain}"
            suffix = 2
            while email in used:
                email = f"{local_part}{suffix}@{self.domain}"
                suffix += 1
            used.add(email)
            provider = rng.choices(providers, weights=provider_weights)[0]
            country, city = self.location()
            apps = list(dict.fromkeys(rng.choices(app_names, weights=app_weights, k=rng.randint(1, 3))))
            office = rng.random() < 0.45
            ips = [self.office_ip() if office else self.home_ip()]
            if rng.random() < 0.5:
                ips.append(self.home_ip())
            agents = rng.sample(USER_AGENTS, rng.randint(1, 2))
            self.person_add(
                Person(
                    user_id=str(ids[index]),
                    email=email,
                    username=(f"{ascii_first[0]}{ascii_last}" if provider in {"local", "okta"} else email),
                    name=f"{first} {last}",
                    provider=provider,
                    apps=apps,
                    ips=ips,
                    agents=agents,
                    country=country,
                    city=city,
                    mfa=rng.choices(mfa_methods, weights=mfa_weights)[0],
                    weight=min(rng.paretovariate(1.4), 25.0),
                )
            )
        country, city = self.spec.countries[0][:2]
        guide = self.person_add(
            Person(
                user_id=GUIDE_USER_ID,
                email=GUIDE_EMAIL,
                username="user",
                name="Una Ser",
                provider="local",
                apps=["auth ui", "billing portal", "mobile app", "hr portal"],
                ips=[OFFICE_IP, "198.51.100.23"],
                agents=[USER_AGENTS[0], USER_AGENTS[7]],
                country=country,
                city=city,
                mfa="totp",
                weight=6.0,
            )
        )
        self.people_cum = cumulative([person.weight for person in self.people])
        return guide

    def person_add(self, person: Person) -> Person:
        self.people.append(person)
        self.by_email[person.email] = person
        return person


class DemoBuilder:
    """Makes one tenant's demo records of a kind (or of kinds made together) over its :class:`DemoTenant`.

    A kind's ``LogKind.demo_builder`` is such a class. For each tenant the composer makes one of every distinct
    builder and calls, builder after builder in ``order``: every ``prepare()``, then every ``script()`` (the guide's
    scenarios), then every ``fill(target)`` (random activity up to the row budget). All draw from the tenant's one
    rng, so ``order`` is part of the data set: change it and the same seed gives other records.
    """

    kinds: tuple[str, ...] = ()  # the kinds whose rows this builder makes, counted together against its target
    order: int = 100
    share: float | None = None  # its fraction of the tenant's rows; None: what the others leave (one builder)

    def __init__(self, world: DemoTenant) -> None:
        self.world = world
        self.rng = world.rng

    def prepare(self) -> None:
        """State the scripts need before any kind's scenario runs (e.g. the administered objects)."""

    def script(self) -> None:
        """The scripted records the user guide's use cases need."""

    def fill(self, target: int) -> None:
        """Random records until this builder's kinds hold ``target`` rows (or as close as their units allow)."""


def office_ip(rng: random.Random) -> str:
    """An address in the office: the guide's 192.168.1.1 or the office network."""
    return rng.choice([OFFICE_IP, f"10.0.0.{rng.randint(2, 254)}", f"10.0.0.{rng.randint(2, 254)}"])


def home_ip(rng: random.Random) -> str:
    """An address away from the office, in the documentation ranges (IPv4 and IPv6)."""
    roll = rng.random()
    if roll < 0.45:
        return f"198.51.100.{rng.randint(1, 254)}"
    if roll < 0.85:
        return f"192.0.2.{rng.randint(1, 254)}"
    return f"2001:db8:{rng.randint(1, 0xFFFF):x}::{rng.randint(1, 0xFFFF):x}"


def cumulative(weights: Iterable[float]) -> list[float]:
    total = 0.0
    out = []
    for weight in weights:
        total += weight
        out.append(total)
    return out
