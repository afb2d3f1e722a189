"""CPU rates for pods without a GPU (`compute.accelerator: cpu`), seeded from shared/reference/catalog-facts.md.

The 2023-05 CoreWeave docs billed CPU and RAM apart: $0.01 per vCPU-hour and $0.005 per GB-hour. Staff add
a newer row in the console when the rate changes; the newest row in force prices a spec.
"""

from datetime import datetime, timezone
from decimal import Decimal

from django.db import migrations, models

SEEDED = datetime(2023, 5, 1, tzinfo=timezone.utc)


def seed(apps, schema_editor):
    apps.get_model("catalog", "CpuRate").objects.get_or_create(valid_from=SEEDED, defaults={
        "price_per_vcpu_hour": Decimal("0.01"), "price_per_gb_hour": Decimal("0.005"),
        "note": "CoreWeave docs, 2023-05 (catalog-facts.md)",
    })


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_region_storage_endpoints")]
    operations = [
        migrations.CreateModel(
            name="CpuRate",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("price_per_vcpu_hour", models.DecimalField(decimal_places=4, max_digits=8)),
                ("price_per_gb_hour", models.DecimalField(decimal_places=4, help_text="Per GB of RAM requested",
                                                          max_digits=8)),
                ("valid_from", models.DateTimeField(db_index=True, unique=True)),
                ("note", models.CharField(blank=True, max_length=200)),
            ],
            options={"ordering": ["-valid_from"], "verbose_name": "CPU rate"},
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
