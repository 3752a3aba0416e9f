"""``manage.py audit_checkpoint [--tenant SLUG] [--accept REASON]``: checkpoint audit chains outside the database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.checkpoints import REASON_MAX, REFUSED, WRITTEN, checkpoint_write
from authmon.management import CLI_CLIENT, cli_actor
from authmon.models import Tenant
from authmon.tenancy import tenant_scope


class Command(BaseCommand):
    help = (
        "Append a signed checkpoint of every tenant's audit chain (or one tenant's) that moved since its last one to "
        "the checkpoint store (AUTHMON_CHECKPOINT_DIR), as the hourly job does. Refuses, and exits non-zero, for a "
        "chain that no longer holds what its last checkpoint vouched for. The last line says how many were written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", metavar="SLUG", help="checkpoint only this tenant")
        parser.add_argument(
            "--accept",
            metavar="REASON",
            default="",
            help="write the checkpoint even though the chain lost what the last one vouched for (e.g. the database "
            "was restored from a backup), or the checkpoint file is damaged (it is set aside and a new one started); "
            "writes an audit record with the reason. Needs --tenant.",
        )

    def handle(self, *args: Any, tenant: str | None = None, accept: str = "", **options: Any) -> None:
        accept = " ".join(accept.split())
        if accept and not tenant:
            raise CommandError("--accept needs --tenant: a break is accepted for one tenant at a time.")
        if len(accept) > REASON_MAX:
            raise CommandError(f"The reason is too long: at most {REASON_MAX} characters.")
        tenants = Tenant.objects.order_by("slug")
        if tenant:
            tenants = tenants.filter(slug=tenant)
            if not tenants.exists():
                raise CommandError(f"No tenant with slug '{tenant}'.")
        written = refused = count = 0
        for item in tenants:
            count += 1
            try:
                with tenant_scope(item.pk):
                    result = checkpoint_write(item, accept=accept, actor=cli_actor(), client_actor=CLI_CLIENT)
            except OSError as exc:  # the store is not writable (permissions, a full disk, append-only files)
                raise CommandError(
                    f"{item.slug}: the checkpoint store cannot be written ({exc.strerror or exc}); check "
                    "AUTHMON_CHECKPOINT_DIR. Checkpoints written before this one are kept."
                ) from None
            if result.outcome == REFUSED:
                refused += 1
                self.stderr.write(result.summary())
                continue
            written += result.outcome == WRITTEN
            self.stdout.write(result.summary())
        if refused:
            raise CommandError(f"Checkpoints refused for {refused} of {count} tenants; nothing was written for them.")
        self.stdout.write(f"OK: {written} checkpoint{'s' if written != 1 else ''} written.")
