"""Demo data: demo tenants, their console users, and realistic, consistent records of every kind.

:func:`demo_data_load` is the service behind ``manage.py load_demo_data`` (and ``make demo``). It composes the
kinds' own demo builders (each kind's ``LogKind.demo_builder``, e.g. :mod:`audit.demo`, :mod:`events.demo`) over one
shared world per tenant (:class:`authmon.world.DemoTenant`: people, applications, addresses, the clock, the seeded
rng): 30 days of activity of a few hundred identity-service users, relative to ``now``, with the scripted incidents
the user guide's use cases and the insights detections need.

The data is deterministic for a given seed and ``now``. Rows are built in memory per tenant and written with
``bulk_create`` inside one transaction per tenant, so 100,000 records load in seconds on SQLite.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from authmon import registry
from authmon.models import Role, Tenant, User
from authmon.security.masking import mask_instance
from authmon.world import DemoBuilder, DemoDataError, DemoTenant, TenantSpec, demo_tenant_specs

DEFAULT_ROWS = 20_000
DEFAULT_TENANTS = 2
DEFAULT_SEED = 42
MIN_ROWS_PER_TENANT = 500
BATCH_SIZE = 2_000

# Known passwords of the demo console users, by role; printed by ``make demo``.
DEMO_PASSWORDS: dict[str, str] = {
    Role.AUDITOR: "demo-auditor-pass",
    Role.TENANT_ADMIN: "demo-admin-pass",
    Role.SUPER_ADMIN: "demo-super-pass",
}
_DEMO_LOCAL_PARTS: dict[str, str] = {
    Role.AUDITOR: "auditor",
    Role.TENANT_ADMIN: "admin",
    Role.SUPER_ADMIN: "superadmin",
}


@dataclass(frozen=True)
class DemoLogin:
    """A demo console user and the password it was given."""

    email: str
    password: str
    role: str
    tenant: str


@dataclass(frozen=True)
class DemoProgress:
    """How far the load is: rows of one kind written for one tenant, and rows written overall."""

    tenant: str
    kind: str
    done: int
    kind_total: int
    overall_done: int
    overall_total: int

    @property
    def percent(self) -> int:
        return int(100 * self.overall_done / self.overall_total) if self.overall_total else 100


ProgressCallback = Callable[[DemoProgress], None]


@dataclass
class DemoResult:
    """What :func:`demo_data_load` did: rows per tenant and kind, tenants skipped, the console logins."""

    logins: list[DemoLogin] = field(default_factory=list)
    loaded: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(sum(counts.values()) for counts in self.loaded.values())


def demo_data_load(
    *,
    tenants: int = DEFAULT_TENANTS,
    rows: int = DEFAULT_ROWS,
    seed: int = DEFAULT_SEED,
    reset: bool = False,
    now: dt.datetime | None = None,
    progress: ProgressCallback | None = None,
) -> DemoResult:
    """Create the demo tenants, their console users and ``rows`` records in total across tenants and kinds.

    A demo tenant that already holds records is left as it is unless ``reset`` is true, in which case its records
    are deleted and made anew; so running the load twice never duplicates data. The demo console users are always
    (re)set to their known passwords and roles, so the returned logins work.
    """
    if tenants < 1:
        raise DemoDataError("--tenants must be at least 1.")
    if rows < MIN_ROWS_PER_TENANT * tenants:
        raise DemoDataError(
            f"--rows must be at least {MIN_ROWS_PER_TENANT:,} per tenant ({MIN_ROWS_PER_TENANT * tenants:,} for "
            f"{tenants} tenant{'s' if tenants > 1 else ''}): the scripted incidents and nightly jobs need room."
        )
    started = time.monotonic()
    now = now or timezone.now()
    specs = demo_tenant_specs(tenants)
    result = DemoResult()

    tenant_objs = [demo_tenant_ensure(spec=spec) for spec in specs]
    result.logins = demo_users_ensure(tenants=tenant_objs)

    shares = [rows // tenants + (1 if index < rows % tenants else 0) for index in range(tenants)]
    todo: list[tuple[TenantSpec, Tenant, int]] = []
    for spec, tenant, share in zip(specs, tenant_objs, shares, strict=True):
        if not reset and _has_records(tenant):
            result.skipped.append(spec.slug)
        else:
            todo.append((spec, tenant, share))

    overall_total = sum(share for _, _, share in todo)
    overall_done = 0
    for spec, tenant, share in todo:
        made = demo_tenant_rows(spec=spec, tenant=tenant, rows=share, seed=seed, now=now)
        with transaction.atomic():
            if reset:
                _delete_records(tenant)
            counts: dict[str, int] = {}
            for kind in registry.kinds():
                objs = made.get(kind.name, [])
                for obj in objs:
                    mask_instance(obj)  # as on ingest: secrets never reach storage
                counts[kind.name] = len(objs)
                for start in range(0, len(objs), BATCH_SIZE):
                    batch = objs[start : start + BATCH_SIZE]
                    kind.model._default_manager.bulk_create(batch, batch_size=BATCH_SIZE)
                    overall_done += len(batch)
                    if progress is not None:
                        progress(
                            DemoProgress(
                                tenant=spec.slug,
                                kind=kind.name,
                                done=start + len(batch),
                                kind_total=len(objs),
                                overall_done=overall_done,
                                overall_total=overall_total,
                            )
                        )
        result.loaded[spec.slug] = counts
    result.seconds = time.monotonic() - started
    return result


def demo_tenant_rows(
    *, spec: TenantSpec, tenant: Tenant, rows: int, seed: int, now: dt.datetime
) -> dict[str, list[Any]]:
    """One tenant's unsaved records by kind name, exactly ``rows`` of them, made by the registered kinds' builders.

    Every builder prepares, then scripts its scenarios, then fills up to its share of ``rows`` (the one without a
    share takes the rest), all in the builders' ``order`` and from one rng seeded with ``seed`` and the tenant.
    """
    world = DemoTenant(spec=spec, tenant=tenant, rows=rows, rng=random.Random(f"{seed}:{spec.slug}"), now=now)
    builders = _builders(world)
    for builder in builders:
        builder.prepare()
    for builder in builders:
        builder.script()
    targets: dict[DemoBuilder, int] = {}
    for builder in builders:
        if builder.share is not None:
            targets[builder] = max(world.count(*builder.kinds), round(rows * builder.share))
    rest = [builder for builder in builders if builder.share is None]
    if len(rest) > 1:
        raise ValueError(f"Only one demo builder may take the rest of the rows, not {len(rest)}.")
    for builder in rest:
        targets[builder] = rows - sum(targets.values())
        if targets[builder] < world.count(*builder.kinds):
            raise DemoDataError(f"--rows is too small for tenant {spec.slug}.")
    world.targets = {kind: targets[builder] for builder in builders for kind in builder.kinds}
    for builder in builders:
        builder.fill(targets[builder])
    return world.rows


def _builders(world: DemoTenant) -> list[DemoBuilder]:
    """One of each registered kind's demo builder (kinds made together share one), in their order."""
    classes = dict.fromkeys(kind.demo_builder for kind in registry.kinds() if kind.demo_builder is not None)
    return sorted((cls(world) for cls in classes), key=lambda builder: builder.order)


def demo_tenant_ensure(*, spec: TenantSpec) -> Tenant:
    """Get or create the tenant described by ``spec``; an existing tenant keeps its name and settings."""
    tenant, _ = Tenant.objects.get_or_create(slug=spec.slug, defaults={"name": spec.name, "timezone": spec.timezone})
    return tenant


def demo_users_ensure(*, tenants: Sequence[Tenant]) -> list[DemoLogin]:
    """Make sure each demo tenant has an auditor and a tenant admin (a customer's admins), and that the operator's
    super admin exists; for the demo it lives in the first tenant, whose data it shows until it switches tenant.

    Existing demo users get their known password, role and tenant back, so the printed logins always work.
    """
    logins: list[DemoLogin] = []
    for index, tenant in enumerate(tenants):
        roles = [Role.AUDITOR, Role.TENANT_ADMIN] + ([Role.SUPER_ADMIN] if index == 0 else [])
        for role in roles:
            email = f"{_DEMO_LOCAL_PARTS[role]}@{tenant.slug}.example.com"
            password = DEMO_PASSWORDS[role]
            user = User.objects.filter(email=email).first()
            if user is None:
                User.objects.create_user(email, password, tenant=tenant, role=role, full_name=f"Demo {role.label}")
            else:
                user.tenant, user.role, user.is_active = tenant, role, True
                user.set_password(password)
                user.save()
            logins.append(DemoLogin(email=email, password=password, role=str(role), tenant=tenant.slug))
    return logins


def _has_records(tenant: Tenant) -> bool:
    return any(kind.model._default_manager.filter(tenant=tenant).exists() for kind in registry.kinds())


def _delete_records(tenant: Tenant) -> None:
    # Each kind's sanctioned removal path, the one its trim uses (audit records refuse ordinary deletes).
    for kind in registry.kinds():
        kind.trim.delete(kind.model._default_manager.filter(tenant=tenant))
