"""On PostgreSQL, range-partition the audit log by month on timestamp, keeping the chain (docs/scaling.md section 8).

Django's state does not change, as for the other partitioned kinds. The ``(tenant, external_id)`` uniqueness moves
to the external_id key table and the ``(tenant, seq)`` chain position (``audit_chain_position_uniq``) to a chain
key table of its own, so a second record at a taken position still fails. The rebuilt table gets the immutability
triggers of ``audit/0005`` again: the row trigger is cloned to every partition by PostgreSQL, the BEFORE TRUNCATE
guard is added to each partition here (and to later ones by ``partitions._month_create``). SQLite keeps its plain
table.
"""

from importlib import import_module

from django.db import migrations

from authmon import partitions

GUARDS = import_module("audit.migrations.0005_immutability_triggers")


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("audit", "AuditLog")
    partitions.table_partition(
        schema_editor, model=model, column="timestamp", key_tables={"audit_chain_position_uniq": "chain_key"}
    )
    GUARDS.install(apps, schema_editor)
    with schema_editor.connection.cursor() as cursor:
        names = [p.name for p in partitions.partitions_list(model._meta.db_table)]
        partitions.truncate_guards_copy(cursor, model._meta.db_table, names)


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    partitions.table_unpartition(schema_editor, model=apps.get_model("audit", "AuditLog"), column="timestamp")
    GUARDS.install(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_tenant_index")]

    operations = [migrations.RunPython(partition, unpartition)]
