"""On PostgreSQL, pg_trgm GIN indexes for the audit quick search and the user view (see docs/scaling.md section 4).

Quick search ORs ``icontains`` over action, target, actor, subject and comments; an OR can use indexes only when
every branch has one, so each field gets its own. Django compiles ``icontains`` to ``UPPER(col::text) LIKE
UPPER(%s)``, so the indexes are on that expression; they also serve the user view's ``iexact`` on actor, target
and subject (pg_trgm on PostgreSQL 14+ answers equality). SQLite has no such index type.
"""

from django.db import migrations

TABLE = "audit_auditlog"
INDEXES = {
    "audit_action_trgm": "action",
    "audit_target_trgm": "target",
    "audit_actor_trgm": "actor",
    "audit_subject_trgm": "subject",
    "audit_comments_trgm": "comments",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX {name} ON {TABLE} USING gin ((UPPER({column}::text)) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_immutability_triggers")]

    operations = [migrations.RunPython(create, drop)]
