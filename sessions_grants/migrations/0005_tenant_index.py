# No index on tenant alone: every index of the table starts with it.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('authmon', '0001_initial'),
        ('sessions_grants', '0004_trigram_search'),
    ]

    operations = [
        migrations.AlterField(
            model_name='grant',
            name='tenant',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='authmon.tenant'),
        ),
        migrations.AlterField(
            model_name='session',
            name='tenant',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='authmon.tenant'),
        ),
    ]
