"""On PostgreSQL, pg_trgm GIN indexes for the audit quick search and the user view (see docs/scaling.md section 4).

Quick search ORs ``icontains`` over action, target, actor, subject and comments; an OR can use indexes only when
every branch has one, so each field gets its own. Django compiles ``icontains`` to ``UPPER(col::text) LIKE
UPPER(%s)``, so the indexes are on that expression; they also serve the user view's ``iexact`` on actor, target
and subject (pg_trgm on PostgreSQL 14+ answers equality). SQLite has no such index type.
"""

from django.db import migrations

from authmon.migration_ops import trigram_indexes

INDEXES = {
    "audit_action_trgm": "action",
    "audit_target_trgm": "target",
    "audit_actor_trgm": "actor",
    "audit_subject_trgm": "subject",
    "audit_comments_trgm": "comments",
}


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_immutability_triggers")]

    operations = [trigram_indexes("audit_auditlog", INDEXES)]
