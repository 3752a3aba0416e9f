"""On PostgreSQL, a pg_trgm GIN index for the Grants quick search (``email`` contains; docs/scaling.md).

Django compiles ``icontains`` to ``UPPER(col::text) LIKE UPPER(%s)``, so the index is on that expression; it also
serves the user view's ``email__iexact``. Sessions need none: their quick search is ``user_id`` exact, served by
the btree ``session_tenant_user``. SQLite has no such index type.
"""

from django.db import migrations

from authmon.migration_ops import trigram_indexes

INDEXES = {"grant_email_trgm": "email"}


class Migration(migrations.Migration):
    dependencies = [("sessions_grants", "0003_tenant_in_unique_keys")]

    operations = [trigram_indexes("sessions_grants_grant", INDEXES)]
