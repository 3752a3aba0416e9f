"""Retention as one row per tenant and kind (authmon.retention), so that a new kind needs no column on Tenant.

Every tenant's six retention columns become rows (all six, so nothing changes for an existing tenant even where a
kind's default differs), then the columns go. Reversed, the rows go back into the columns (a kind without a row
gets the old column default).
"""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

KINDS = {"audit": 2555, "events": 365, "jobs": 90, "notifications": 180, "sessions": 90, "grants": 365}


def columns_to_rows(apps, schema_editor):
    tenant_model = apps.get_model("authmon", "Tenant")
    retention_model = apps.get_model("authmon", "Retention")
    retention_model.objects.bulk_create(
        retention_model(tenant_id=tenant.pk, kind=kind, days=getattr(tenant, f"retention_{kind}_days"))
        for tenant in tenant_model.objects.all()
        for kind in KINDS
    )


def rows_to_columns(apps, schema_editor):
    tenant_model = apps.get_model("authmon", "Tenant")
    retention_model = apps.get_model("authmon", "Retention")
    for tenant in tenant_model.objects.all():
        rows = dict(retention_model.objects.filter(tenant_id=tenant.pk).values_list("kind", "days"))
        for kind, default in KINDS.items():
            setattr(tenant, f"retention_{kind}_days", rows.get(kind, default))
        tenant.save()


class Migration(migrations.Migration):
    dependencies = [
        ("authmon", "0003_database_defences"),
    ]

    operations = [
        migrations.CreateModel(
            name="Retention",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=40)),
                ("days", models.PositiveIntegerField(validators=[django.core.validators.MinValueValidator(0)])),
                (
                    "tenant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="retention", to="authmon.tenant"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("tenant", "kind"), name="retention_one_per_tenant_kind")
                ],
            },
        ),
        migrations.RunPython(columns_to_rows, rows_to_columns),
        *(migrations.RemoveField(model_name="tenant", name=f"retention_{kind}_days") for kind in KINDS),
    ]
