"""``manage.py verify_audit_chain [--tenant SLUG]``: verify the tamper-evident audit chain, tenant by tenant."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.chain import chain_verify
from audit.checkpoints import checkpoint_orphans
from authmon.models import Tenant
from authmon.tenancy import tenant_scope


class Command(BaseCommand):
    help = (
        "Verify every tenant's audit chain (or one tenant's) and report the first broken link: a record changed, "
        "removed or inserted outside authmon, or a chain that lost what its latest checkpoint (outside the database) "
        "vouched for: a rolled-back tail, a replaced head, an erased tenant. Exits non-zero when a chain is broken."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", metavar="SLUG", help="verify only this tenant")

    def handle(self, *args: Any, tenant: str | None = None, **options: Any) -> None:
        tenants = Tenant.objects.order_by("slug")
        # A tenant erased together with its row is remembered by its checkpoint file.
        gone = checkpoint_orphans(set(Tenant.objects.values_list("pk", flat=True)))
        if tenant:
            tenants = tenants.filter(slug=tenant)
            gone = [(slug, problem) for slug, problem in gone if slug == tenant]
            if not tenants.exists() and not gone:
                raise CommandError(f"No tenant with slug '{tenant}'.")
        broken = 0
        count = 0
        for item in tenants:
            with tenant_scope(item.pk):
                report = chain_verify(tenant=item)
            count += 1
            if report.ok:
                self.stdout.write(report.summary())
            else:
                broken += 1
                self.stderr.write(report.summary())
        for slug, problem in gone:
            count += 1
            broken += 1
            self.stderr.write(f"{slug}: BROKEN: {problem}")
        if broken:
            raise CommandError(f"{broken} of {count} audit chains are broken.")
        self.stdout.write(f"OK: {count} audit chain{'s' if count != 1 else ''} verified.")
