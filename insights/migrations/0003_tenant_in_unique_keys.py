"""The alert deduplication key includes the tenant, so that the table can be distributed by tenant (docs/scaling.md).

The new constraint is added before the old one goes, so uniqueness holds throughout.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("authmon", "0001_initial"),
        ("insights", "0002_event_signals_index"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="alertmark",
            constraint=models.UniqueConstraint(
                fields=("tenant", "rule", "fingerprint"), name="insights_mark_tenant_rule_fp_uniq"
            ),
        ),
        migrations.RemoveConstraint(
            model_name="alertmark",
            name="insights_mark_rule_fp_uniq",
        ),
    ]
