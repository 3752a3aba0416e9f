"""``manage.py create_tenant SLUG [--name N] [--timezone TZ]``: prints the new tenant's slug last."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError, transaction

from authmon.auditing import audit_record
from authmon.management import CLI_CLIENT, cli_actor, validation_message
from authmon.models import Tenant
from authmon.tenancy import command_tenant_use


class Command(BaseCommand):
    help = "Create a tenant. The last line of output is its slug."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="URL-safe identifier: letters, digits, hyphens, underscores (e.g. acme).")
        parser.add_argument("--name", default="", help="Display name (default: the slug, title-cased).")
        parser.add_argument("--timezone", default="UTC", help="IANA time zone, e.g. Europe/Berlin (default: UTC).")

    def handle(self, *args: Any, slug: str, name: str, timezone: str, **options: Any) -> None:
        slug = slug.strip()
        if Tenant.objects.filter(slug=slug).exists():
            raise CommandError(f"A tenant with slug '{slug}' already exists.")
        tenant = Tenant(
            slug=slug, name=name.strip() or slug.replace("-", " ").replace("_", " ").title(), timezone=timezone
        )
        try:
            tenant.full_clean()
        except ValidationError as exc:
            raise CommandError(f"Cannot create tenant '{slug}': {validation_message(exc)}") from None
        try:
            with transaction.atomic():
                tenant.save()
                command_tenant_use(tenant.pk)
                audit_record(
                    tenant=tenant,
                    actor=cli_actor(),
                    action="create TenantSettings",
                    target=tenant.name,
                    new={"slug": tenant.slug, "name": tenant.name, "timezone": tenant.timezone},
                    client_actor=CLI_CLIENT,
                )
        except IntegrityError:  # created concurrently since the check above
            raise CommandError(f"A tenant with slug '{slug}' already exists.") from None
        if options["verbosity"] >= 1:
            self.stdout.write(f"Created tenant {tenant.name} (time zone {tenant.timezone}).")
        self.stdout.write(tenant.slug)
