"""On PostgreSQL, a pg_trgm GIN index for the Grants quick search (``email`` contains; docs/scaling.md).

Django compiles ``icontains`` to ``UPPER(col::text) LIKE UPPER(%s)``, so the index is on that expression; it also
serves the user view's ``email__iexact``. Sessions need none: their quick search is ``user_id`` exact, served by
the btree ``session_tenant_user``. SQLite has no such index type.
"""

from django.db import migrations

INDEXES = {"grant_email_trgm": "email"}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX {name} ON sessions_grants_grant USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("sessions_grants", "0003_tenant_in_unique_keys")]

    operations = [migrations.RunPython(create, drop)]
