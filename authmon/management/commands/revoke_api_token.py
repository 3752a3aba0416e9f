"""``manage.py revoke_api_token --tenant SLUG PREFIX``: the token stops working at once; the last line says which."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from authmon.api_tokens import TokenNotFound, api_token_find, api_token_revoke
from authmon.management import CLI_CLIENT, cli_actor
from authmon.models import Tenant
from authmon.tenancy import command_tenant_use


class Command(BaseCommand):
    help = (
        "Revoke an API token of a tenant: the next request with it answers 401. PREFIX is the prefix shown in the "
        "console's API tokens page (e.g. amt_AbCd1234), the whole token, or #id. Audited in the tenant. The last "
        "line of output names the revoked token."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("prefix", help="The token's prefix (amt_ and 8 characters), the whole token, or #id.")
        parser.add_argument("--tenant", required=True, help="Slug of the tenant the token belongs to.")
        parser.add_argument("--comment", default="", help="Why (goes into the audit record).")

    def handle(self, *args: Any, prefix: str, tenant: str, comment: str, **options: Any) -> None:
        tenant_obj = Tenant.objects.filter(slug=tenant.strip()).first() if "\x00" not in tenant else None
        if tenant_obj is None:
            raise CommandError(f"No tenant with slug '{tenant}'.")
        command_tenant_use(tenant_obj.pk)
        try:
            token = api_token_find(tenant=tenant_obj, handle=prefix)
        except TokenNotFound as exc:
            raise CommandError(str(exc)) from None
        result = api_token_revoke(token=token, actor=cli_actor(), comment=comment, client_actor=CLI_CLIENT)
        label = f"API token {token.handle}{f' ({token.name})' if token.name else ''} of tenant {tenant_obj.slug}"
        if result.revoked_now:
            self.stdout.write(f"Revoked {label}: it no longer authenticates.")
        else:
            self.stdout.write(
                f"{label[0].upper()}{label[1:]} was already revoked at {token.revoked_at:%Y-%m-%d %H:%M} UTC."
            )
