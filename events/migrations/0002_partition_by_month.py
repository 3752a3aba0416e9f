"""On PostgreSQL, range-partition the events table by month on created_on (see authmon/partitions.py).

Django's state does not change (``id`` stays the primary key for the ORM), so there are no state operations: the
table is rebuilt physically on PostgreSQL only, keeping every index under its name. SQLite keeps its plain table.
"""

from django.db import migrations

from authmon import partitions


def partition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        partitions.table_partition(schema_editor, model=apps.get_model("events", "EventLog"), column="created_on")


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        partitions.table_unpartition(schema_editor, model=apps.get_model("events", "EventLog"), column="created_on")


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0001_initial"),
        # Every index on the table is carried over as a partitioned index, so the ones other apps add to it (the
        # insights detections' covering index, built CONCURRENTLY, which a partitioned table does not allow) must
        # exist before the table is rebuilt.
        ("insights", "0002_event_signals_index"),
    ]

    operations = [migrations.RunPython(partition, unpartition)]
