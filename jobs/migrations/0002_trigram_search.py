"""On PostgreSQL, a pg_trgm GIN index for the Job Logs quick search (``job_name`` contains; docs/scaling.md).

Django compiles ``icontains`` to ``UPPER(col::text) LIKE UPPER(%s)``, so the index is on that expression. SQLite
has no such index type.
"""

from django.db import migrations

from authmon.migration_ops import trigram_indexes

INDEXES = {"jobs_name_trgm": "job_name"}


class Migration(migrations.Migration):
    dependencies = [("jobs", "0001_initial")]

    operations = [trigram_indexes("jobs_joblog", INDEXES)]
