"""The revocation delivery key includes the tenant, so that the table can be distributed by tenant (docs/scaling.md).

The new constraint is added before the old one goes, so uniqueness holds throughout.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("authmon", "0001_initial"),
        ("sessions_grants", "0002_revocation_webhook"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="revocationdelivery",
            constraint=models.UniqueConstraint(
                fields=("record_type", "record_id", "tenant"), name="revocation_delivery_record_tenant_uniq"
            ),
        ),
        migrations.RemoveConstraint(
            model_name="revocationdelivery",
            name="revocation_delivery_record_uniq",
        ),
    ]
