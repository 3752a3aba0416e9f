# No index on tenant alone (every index starts with it); key-table join triggers plan index probes (docs/scaling.md).

import django.db.models.deletion
from django.db import migrations, models

from authmon.migration_ops import key_trigger_plans


class Migration(migrations.Migration):

    dependencies = [
        ('authmon', '0001_initial'),
        ('events', '0003_trigram_search'),
    ]

    operations = [
        migrations.AlterField(
            model_name='eventlog',
            name='tenant',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='authmon.tenant'),
        ),
        key_trigger_plans("events_eventlog"),
    ]
