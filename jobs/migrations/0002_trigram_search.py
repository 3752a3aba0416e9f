"""On PostgreSQL, a pg_trgm GIN index for the Job Logs quick search (``job_name`` contains; docs/scaling.md).

Django compiles ``icontains`` to ``UPPER(col::text) LIKE UPPER(%s)``, so the index is on that expression. SQLite
has no such index type.
"""

from django.db import migrations

INDEXES = {"jobs_name_trgm": "job_name"}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX {name} ON jobs_joblog USING gin ((UPPER({column}::text)) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("jobs", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
