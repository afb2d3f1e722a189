"""Free GPUs come from the clusters (issue 17): each offering keeps staff's number as an override, and the
cluster's report beside it.

The typed `available_gpus` column becomes `override_gpus` (renamed, so every stored number stays, as an
override: nothing staff typed changes meaning silently; clearing it in the console hands the offering to its
cluster's report). A number still equal to the catalog seed's (0002) was never typed by staff: it moves to
the report, as an estimate without a time, which the cluster's first report replaces. Going back, an
offering without an override takes its report, else the old default.
"""

import importlib

from django.db import migrations, models

OLD_DEFAULT = 64


def seed_estimates_to_reports(apps, schema_editor):
    RegionOffering = apps.get_model("catalog", "RegionOffering")
    seeded = importlib.import_module("catalog.migrations.0002_seed_catalog")
    estimate = {(code, name): free for code, _, classes, free in seeded.REGIONS for name in classes}
    for offering in RegionOffering.objects.select_related("region", "gpu_class"):
        if estimate.get((offering.region.code, offering.gpu_class.name)) == offering.override_gpus:
            offering.reported_free, offering.override_gpus = offering.override_gpus, None
            offering.save(update_fields=["reported_free", "override_gpus"])


def overrides_fill(apps, schema_editor):
    RegionOffering = apps.get_model("catalog", "RegionOffering")
    for offering in RegionOffering.objects.filter(override_gpus__isnull=True):
        offering.override_gpus = offering.reported_free if offering.reported_free is not None else OLD_DEFAULT
        offering.save(update_fields=["override_gpus"])


class Migration(migrations.Migration):
    dependencies = [("catalog", "0006_cpu_rates")]
    operations = [
        migrations.RenameField("regionoffering", "available_gpus", "override_gpus"),
        migrations.AlterField(
            model_name="regionoffering",
            name="override_gpus",
            field=models.PositiveIntegerField(
                blank=True, null=True, verbose_name="free GPUs (override)",
                help_text="Staff's number of free GPUs, used instead of what the region's cluster reports (a "
                          "cluster that cannot see all its capacity, a reservation). Leave empty to use the "
                          "cluster's report."),
        ),
        migrations.AddField(
            model_name="regionoffering",
            name="reported_free",
            field=models.PositiveIntegerField(
                blank=True, editable=False, null=True, verbose_name="free GPUs (reported)",
                help_text="Allocatable GPUs on the nodes of this class and region minus what pods request."),
        ),
        migrations.AddField(
            model_name="regionoffering",
            name="reported_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        # Backwards the column must be filled again.
        migrations.RunPython(seed_estimates_to_reports, overrides_fill),
    ]
