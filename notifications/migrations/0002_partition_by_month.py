"""On PostgreSQL, range-partition the notifications table by month on timestamp (see authmon/partitions.py).

Django's state does not change (``id`` stays the primary key for the ORM), so there are no state operations: the
table is rebuilt physically on PostgreSQL only. SQLite keeps its plain table.
"""

from django.db import migrations

from authmon import partitions


def partition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        model = apps.get_model("notifications", "NotificationLog")
        partitions.table_partition(schema_editor, model=model, column="timestamp")


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        model = apps.get_model("notifications", "NotificationLog")
        partitions.table_unpartition(schema_editor, model=model, column="timestamp")


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(partition, unpartition)]
