"""Every audit record has a chain position from now on, and no two records of a tenant share one.

(Separate from 0003: PostgreSQL refuses to alter a table in the transaction that updated its rows.)
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_audit_chain"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditlog",
            name="seq",
            field=models.BigIntegerField(editable=False, verbose_name="chain position"),
        ),
        migrations.AddConstraint(
            model_name="auditlog",
            constraint=models.UniqueConstraint(fields=("tenant", "seq"), name="audit_chain_position_uniq"),
        ),
    ]
