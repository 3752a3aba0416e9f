"""``manage.py create_api_token --tenant SLUG --scopes ingest,read [--name N]``: prints the raw token last."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from authmon.auditing import audit_record
from authmon.management import CLI_CLIENT, cli_actor, validation_message
from authmon.models import ApiScope, ApiToken, Tenant
from authmon.tenancy import command_tenant_use


class Command(BaseCommand):
    help = "Issue an API token for a tenant. The last line of output is the token: store it now, only its hash is kept."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Slug of the tenant the token acts for.")
        parser.add_argument(
            "--scopes", required=True, help=f"Comma-separated scopes: {', '.join(ApiScope.values)} (e.g. ingest,read)."
        )
        parser.add_argument("--name", default="", help="A label to recognise the token by (e.g. 'idp ingest').")

    def handle(self, *args: Any, tenant: str, scopes: str, name: str, **options: Any) -> None:
        tenant_obj = Tenant.objects.filter(slug=tenant).first()
        if tenant_obj is None:
            raise CommandError(f"No tenant with slug '{tenant}'.")
        command_tenant_use(tenant_obj.pk)
        wanted = [scope.strip().lower() for scope in scopes.split(",") if scope.strip()]
        unknown = [scope for scope in wanted if scope not in ApiScope.values]
        if unknown or not wanted:
            problem = f"Unknown scope(s): {', '.join(unknown)}. " if unknown else "No scope given. "
            raise CommandError(f"{problem}Use {', '.join(ApiScope.values)} or both, comma-separated.")
        try:
            with transaction.atomic():
                token, raw = ApiToken.issue(tenant=tenant_obj, scopes=wanted, name=name.strip())
                audit_record(
                    tenant=tenant_obj,
                    actor=cli_actor(),
                    action="create Secret",
                    target=f"API token {token.name or token.pk}",
                    new={"id": token.pk, "name": token.name, "scopes": token.scopes, "token": "***"},
                    client_actor=CLI_CLIENT,
                )
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from None
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"Issued token #{token.pk} for tenant {tenant_obj.slug} with scopes {', '.join(token.scopes)}. "
                "It is shown only once:"
            )
        self.stdout.write(raw)
