"""``manage.py set_revocation_webhook --tenant SLUG --url URL [--secret S | --rotate-secret] [--disable | --enable]``
(or ``--remove``): configure where a tenant's revocations are pushed. Prints the signing secret last."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from authmon.management import CLI_CLIENT, cli_actor, validation_message
from authmon.models import Tenant
from authmon.tenancy import command_tenant_use
from sessions_grants.webhooks import display_url, webhook_configure, webhook_for, webhook_remove


class Command(BaseCommand):
    help = (
        "Set the tenant's revocation webhook: every session and grant revocation is POSTed there, signed with "
        "HMAC-SHA256 (header X-Authmon-Signature). The last line of output is the signing secret."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Slug of the tenant.")
        parser.add_argument("--url", help="http(s) URL of the identity service's revocation webhook.")
        parser.add_argument("--secret", help="The signing secret to use (default: keep it; a new webhook gets one).")
        parser.add_argument("--rotate-secret", action="store_true", help="Generate a new signing secret.")
        state = parser.add_mutually_exclusive_group()
        state.add_argument("--disable", action="store_true", help="Stop pushing (the feed still has everything).")
        state.add_argument("--enable", action="store_true", help="Push again.")
        state.add_argument("--remove", action="store_true", help="Delete the webhook configuration.")

    def handle(self, *args: Any, tenant: str, **options: Any) -> None:
        tenant_obj = Tenant.objects.filter(slug=tenant).first()
        if tenant_obj is None:
            raise CommandError(f"No tenant with slug '{tenant}'.")
        command_tenant_use(tenant_obj.pk)
        if options["remove"]:
            if not webhook_remove(tenant=tenant_obj, actor=cli_actor(), client_actor=CLI_CLIENT):
                raise CommandError(f"Tenant {tenant_obj.slug} has no revocation webhook.")
            self.stdout.write(f"Removed the revocation webhook of tenant {tenant_obj.slug}.")
            return
        if options["secret"] and options["rotate_secret"]:
            raise CommandError("Give either --secret or --rotate-secret, not both.")
        if webhook_for(tenant_obj) is None and not options["url"]:
            raise CommandError(f"Tenant {tenant_obj.slug} has no revocation webhook yet: give --url.")
        enabled = True if options["enable"] else False if options["disable"] else None
        try:
            webhook = webhook_configure(
                tenant=tenant_obj,
                actor=cli_actor(),
                url=options["url"],
                secret=options["secret"],
                rotate_secret=options["rotate_secret"],
                enabled=enabled,
                client_actor=CLI_CLIENT,
            )
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from None
        if options["verbosity"] >= 1:
            state = "enabled" if webhook.enabled else "disabled"
            self.stdout.write(
                f"Revocation webhook of tenant {tenant_obj.slug}: {display_url(webhook.url)} ({state}). Signing secret:"
            )
        self.stdout.write(webhook.secret)
