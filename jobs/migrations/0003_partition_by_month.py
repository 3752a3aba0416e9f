"""On PostgreSQL, range-partition the job logs table by month on created_at (see authmon/partitions.py).

Django's state does not change (``id`` stays the primary key for the ORM), so there are no state operations: the
table is rebuilt physically on PostgreSQL only, keeping every index under its name, and the ``(tenant,
external_id)`` uniqueness moves to the key table. Job records are updated as they run; those updates never change
``created_at``, so a record stays in its month's partition. SQLite keeps its plain table.
"""

from django.db import migrations

from authmon import partitions


def partition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        partitions.table_partition(schema_editor, model=apps.get_model("jobs", "JobLog"), column="created_at")


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        partitions.table_unpartition(schema_editor, model=apps.get_model("jobs", "JobLog"), column="created_at")


class Migration(migrations.Migration):
    dependencies = [("jobs", "0002_trigram_search")]

    operations = [migrations.RunPython(partition, unpartition)]
