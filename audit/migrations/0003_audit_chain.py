"""The tamper-evident audit chain: chain positions and hashes on every audit record, one signed head per tenant.

Records that exist already are chained per tenant in the order they were written as far as can be told (timestamp,
then id).
"""

import django.db.models.deletion
from django.db import migrations, models

GENESIS = "0" * 64


def chain_existing(apps, schema_editor):
    from audit import chain

    AuditLog = apps.get_model("audit", "AuditLog")
    AuditChain = apps.get_model("audit", "AuditChain")
    Tenant = apps.get_model("authmon", "Tenant")
    for tenant in Tenant.objects.all():
        head = AuditChain(tenant=tenant, last_seq=0, last_hash=GENESIS, anchor_seq=0, anchor_hash=GENESIS)
        batch = []
        for row in AuditLog.objects.filter(tenant=tenant).order_by("timestamp", "id").iterator(chunk_size=2000):
            head.last_seq += 1
            row.external_id = row.external_id or None
            row.seq = head.last_seq
            row.prev_hash = head.last_hash
            row.hash = chain.record_hash(row.prev_hash, chain.instance_values(row, tenant.slug), AuditLog)
            head.last_hash = row.hash
            batch.append(row)
            if len(batch) >= 2000:
                AuditLog.objects.bulk_update(batch, ["external_id", "seq", "prev_hash", "hash"])
                batch = []
        if batch:
            AuditLog.objects.bulk_update(batch, ["external_id", "seq", "prev_hash", "hash"])
        if head.last_seq:
            chain.head_sign(head, tenant.slug)
            head.save()


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_initial"),
        ("authmon", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChain",
            fields=[
                (
                    "tenant",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="authmon.tenant",
                    ),
                ),
                ("last_seq", models.BigIntegerField(default=0)),
                ("last_hash", models.CharField(default=GENESIS, max_length=64)),
                ("anchor_seq", models.BigIntegerField(default=0)),
                ("anchor_hash", models.CharField(default=GENESIS, max_length=64)),
                ("key_id", models.CharField(blank=True, max_length=100)),
                ("signature", models.CharField(blank=True, max_length=64)),
            ],
        ),
        migrations.AddField(
            model_name="auditlog",
            name="seq",
            field=models.BigIntegerField(editable=False, null=True, verbose_name="chain position"),
        ),
        migrations.AddField(
            model_name="auditlog",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="previous hash"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditlog",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="record hash"),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
    ]
