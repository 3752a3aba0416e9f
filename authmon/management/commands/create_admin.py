"""``manage.py create_admin EMAIL --tenant SLUG --role ROLE [--password P] [--update]``: prints the e-mail last."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError, transaction

from authmon.auditing import audit_record
from authmon.management import CLI_CLIENT, cli_actor, validation_message
from authmon.models import Role, Tenant, User
from authmon.tenancy import command_tenant_use


def _snapshot(user: User) -> dict[str, Any]:
    return {"email": user.email, "tenant": user.tenant.slug, "role": user.role, "is_active": user.is_active}


class Command(BaseCommand):
    help = (
        "Create a console user of a tenant with a role. Without --password a strong password is generated and "
        "printed on the line before the last. The last line of output is the e-mail address."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="Sign-in e-mail address.")
        parser.add_argument("--tenant", required=True, help="Slug of the user's tenant.")
        parser.add_argument(
            "--role",
            required=True,
            help=f"One of: {', '.join(Role.values)}. A customer's first admin is a tenant_admin; super_admin is the "
            "operator's own role (it sees every tenant).",
        )
        parser.add_argument("--password", default=None, help="Password (checked against the password policy).")
        parser.add_argument(
            "--update",
            action="store_true",
            help="If the user exists, set its tenant and role (and password, when --password is given) "
            "instead of failing.",
        )

    def handle(
        self, *args: Any, email: str, tenant: str, role: str, password: str | None, update: bool, **options: Any
    ) -> None:
        if role not in Role.values:
            raise CommandError(f"Unknown role '{role}'. Choose one of: {', '.join(Role.values)}.")
        tenant_obj = Tenant.objects.filter(slug=tenant).first()
        if tenant_obj is None:
            raise CommandError(
                f"No tenant with slug '{tenant}'. Create it first with: manage.py create_tenant {tenant}"
            )
        command_tenant_use(tenant_obj.pk)
        email = User.objects.normalize_email(email.strip()).lower()
        existing = User.objects.filter(email=email).select_related("tenant").first()
        if existing is not None and not update:
            raise CommandError(
                f"A user with e-mail '{email}' already exists (tenant {existing.tenant.slug}, role {existing.role}). "
                "Pass --update to change its tenant, role or password."
            )
        generated = password is None and existing is None
        if generated:
            password = secrets.token_urlsafe(18)
        user = existing or User(email=email)
        old = _snapshot(existing) if existing else None
        user.tenant, user.role, user.is_active = tenant_obj, role, True
        try:
            user.full_clean(exclude=["password"], validate_unique=existing is None)
            if password is not None:
                validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(
                f"Cannot {'update' if existing else 'create'} '{email}': {validation_message(exc)}"
            ) from None
        if password is not None:
            user.set_password(password)
        try:
            with transaction.atomic():
                user.save()
                audit_record(
                    tenant=tenant_obj,
                    actor=cli_actor(),
                    action=f"{'update' if existing else 'create'} User",
                    target=email,
                    subject=role,
                    old=old,
                    new=_snapshot(user),
                    comments="password changed" if existing and password is not None else "",
                    client_actor=CLI_CLIENT,
                )
        except IntegrityError:
            raise CommandError(f"A user with e-mail '{email}' already exists.") from None
        if options["verbosity"] >= 1:
            verb = "Updated" if existing else "Created"
            self.stdout.write(f"{verb} {Role(role).label.lower()} {email} in tenant {tenant_obj.slug}.")
        if generated:
            self.stdout.write(f"Password: {password}")
        self.stdout.write(email)
