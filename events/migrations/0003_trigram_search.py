"""On PostgreSQL, a pg_trgm GIN index for the contains-searches on e-mail (quick search, "user contains ...").

Django compiles ``email__icontains`` to ``UPPER(email::text) LIKE UPPER(%s)``, so the index is on that expression;
since pg_trgm 1.4 it also serves ``email__iexact`` (the user view). SQLite has no such index type.
"""

from django.db import migrations

INDEXES = {"events_email_trgm": "email"}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX {name} ON events_eventlog USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("events", "0002_partition_by_month")]

    operations = [migrations.RunPython(create, drop)]
