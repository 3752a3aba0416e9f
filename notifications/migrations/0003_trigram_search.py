"""On PostgreSQL, pg_trgm GIN indexes for the contains-searches on subject and recipient (the quick search).

Django compiles ``icontains`` to ``UPPER(col::text) LIKE UPPER(%s)``, so the indexes are on that expression.
"""

from django.db import migrations

INDEXES = {"notif_subject_trgm": "subject", "notif_recipient_trgm": "recipient"}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX {name} ON notifications_notificationlog USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_partition_by_month")]

    operations = [migrations.RunPython(create, drop)]
