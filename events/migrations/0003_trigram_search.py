"""On PostgreSQL, a pg_trgm GIN index for the contains-searches on e-mail (quick search, "user contains ...").

Django compiles ``email__icontains`` to ``UPPER(email::text) LIKE UPPER(%s)``, so the index is on that expression;
since pg_trgm 1.4 it also serves ``email__iexact`` (the user view). SQLite has no such index type.
"""

from django.db import migrations

from authmon.migration_ops import trigram_indexes

INDEXES = {"events_email_trgm": "email"}


class Migration(migrations.Migration):
    dependencies = [("events", "0002_partition_by_month")]

    operations = [trigram_indexes("events_eventlog", INDEXES)]
