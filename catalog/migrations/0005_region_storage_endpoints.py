"""Regions carry their object storage endpoints; every seeded region gets CoreWeave's documented pair.

CoreWeave AI Object Storage (docs.coreweave.com, "Local Object Transport Accelerator (LOTA)", 2026):
the primary endpoint is https://cwobject.com; inside a CoreWeave cluster the LOTA endpoint http://cwlota.com
serves the same buckets through the node-local cache. Staff edit them per region in the console.
"""

from django.db import migrations, models


PRIMARY, ACCELERATED = "https://cwobject.com", "http://cwlota.com"


def seed_endpoints(apps, schema_editor):
    apps.get_model("catalog", "Region").objects.filter(object_endpoint="").update(
        object_endpoint=PRIMARY, accelerated_endpoint=ACCELERATED)


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0004_seed_model_families'),
    ]

    operations = [
        migrations.AddField(
            model_name='region',
            name='accelerated_endpoint',
            field=models.URLField(blank=True, help_text='Accelerated (cached, node-local) endpoint, e.g. http://cwlota.com inside a CoreWeave cluster'),
        ),
        migrations.AddField(
            model_name='region',
            name='object_endpoint',
            field=models.URLField(blank=True, help_text='Object storage endpoint for pods in this region, e.g. https://cwobject.com'),
        ),
        migrations.RunPython(seed_endpoints, migrations.RunPython.noop),
    ]
