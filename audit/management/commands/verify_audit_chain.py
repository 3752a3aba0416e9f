"""``manage.py verify_audit_chain [--tenant SLUG]``: verify the tamper-evident audit chain, tenant by tenant."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.chain import chain_verify
from authmon.models import Tenant


class Command(BaseCommand):
    help = (
        "Verify every tenant's audit chain (or one tenant's) and report the first broken link: a record changed, "
        "removed or inserted outside authmon. Exits non-zero when a chain is broken."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", metavar="SLUG", help="verify only this tenant")

    def handle(self, *args: Any, tenant: str | None = None, **options: Any) -> None:
        tenants = Tenant.objects.order_by("slug")
        if tenant:
            tenants = tenants.filter(slug=tenant)
            if not tenants.exists():
                raise CommandError(f"No tenant with slug '{tenant}'.")
        broken = 0
        count = 0
        for item in tenants:
            report = chain_verify(tenant=item)
            count += 1
            if report.ok:
                self.stdout.write(report.summary())
            else:
                broken += 1
                self.stderr.write(report.summary())
        if broken:
            raise CommandError(f"{broken} of {count} audit chains are broken.")
        self.stdout.write(f"OK: {count} audit chain{'s' if count != 1 else ''} verified.")
