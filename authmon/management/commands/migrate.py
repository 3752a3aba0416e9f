"""``manage.py migrate`` as the owner role (``DATABASE_OWNER_URL``), then the database's defences (authmon.dbroles).

Django's own command does the migrating; this one chooses the connection first, then on PostgreSQL puts the tenant
policy on any new table with a ``tenant_id`` and, when the app role is another role than the owner, gives it least
privilege on what the migrations created (new tables included).
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

from authmon import dbroles


class Command(DjangoMigrate):
    def handle(self, *args: Any, **options: Any) -> None:
        dbroles.owner_connect()
        super().handle(*args, **options)
        connection = connections[options.get("database") or "default"]
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for table in dbroles.rls_ensure(cursor):
                if options["verbosity"]:
                    self.stdout.write(f"Row-level security enabled and forced on {table}.")
        role = dbroles.app_role_name()
        if role:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
                if cursor.fetchone():
                    dbroles.grant_app_role(cursor, role)
                    if options["verbosity"]:
                        self.stdout.write(f"Granted the app role {role} least privilege on the schema.")
