"""``manage.py db_roles --app-user NAME --app-password PW``: create or update the app role (PostgreSQL).

Run as the owner (``DATABASE_OWNER_URL``, else ``DATABASE_URL``), after ``migrate``; idempotent. The role can log
in, is no superuser, cannot bypass row-level security, create roles or databases, owns nothing, and gets least
privilege (authmon.dbroles). The last line of output is the app role's database URL, for ``DATABASE_URL``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections, transaction

from authmon import dbroles

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class Command(BaseCommand):
    help = "Create or update the least-privilege PostgreSQL role the console, API and workers connect as."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--app-user", required=True, help="Role name, e.g. authmon_app (lower case, a-z0-9_).")
        parser.add_argument("--app-password", required=True, help="Its password (stored hashed by PostgreSQL).")

    def handle(self, *args: Any, app_user: str, app_password: str, **options: Any) -> None:
        if not ROLE_NAME.match(app_user):
            raise CommandError(f"'{app_user}' is not a plain role name: use lower-case letters, digits and '_'.")
        if app_user == dbroles.MAINTENANCE_ROLE:
            raise CommandError(f"'{app_user}' is the maintenance role; choose another name.")
        if not app_password:
            raise CommandError("--app-password must not be empty.")
        dbroles.owner_connect()
        connection = connections["default"]
        if connection.vendor != "postgresql":
            raise CommandError("Database roles are a PostgreSQL feature; SQLite (embedded mode) has none.")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app_user])
            verb = "ALTER" if cursor.fetchone() else "CREATE"
            cursor.execute("SELECT quote_ident(%s), quote_literal(%s)", [app_user, app_password])
            role_sql, password_sql = cursor.fetchone()
            cursor.execute(
                f"{verb} ROLE {role_sql} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT "
                f"PASSWORD {password_sql}"
            )
            dbroles.grant_app_role(cursor, app_user)
            problems = dbroles.role_problems(cursor, app_user)
            if problems:
                raise CommandError(f"The role {app_user} cannot be the app role: {'; '.join(problems)}.")
        done = "Created" if verb == "CREATE" else "Updated"
        self.stdout.write(f"{done} the app role {app_user} with least privilege.")
        db = connection.settings_dict
        host = db.get("HOST") or "127.0.0.1"
        port = f":{db['PORT']}" if db.get("PORT") else ""
        self.stdout.write(f"postgres://{quote(app_user)}:{quote(app_password, safe='')}@{host}{port}/{db['NAME']}")
