"""On PostgreSQL, pg_trgm GIN indexes for the contains-searches on subject and recipient (the quick search).

Django compiles ``icontains`` to ``UPPER(col::text) LIKE UPPER(%s)``, so the indexes are on that expression.
"""

from django.db import migrations

from authmon.migration_ops import trigram_indexes

INDEXES = {"notif_subject_trgm": "subject", "notif_recipient_trgm": "recipient"}


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_partition_by_month")]

    operations = [trigram_indexes("notifications_notificationlog", INDEXES)]
