"""The console is vendor-neutral (issue 20): the regions' endpoint help and the seeded price notes stop naming
CoreWeave. The numbers and endpoints stay as seeded (their source is named in 0002, 0005 and 0006); only the
help text changes, and the two seeded notes are reworded where nobody has edited them.
"""

from django.db import migrations, models

# (model, the note 0002/0006 wrote, the note shown from now on)
NOTES = [
    ("GpuPrice", "CoreWeave docs, 2023-05", "Platform docs, 2023-05"),
    ("CpuRate", "CoreWeave docs, 2023-05 (catalog-facts.md)", "Platform docs, 2023-05"),
]


def notes_reword(apps, schema_editor):
    for model, seeded, shown in NOTES:
        apps.get_model("catalog", model).objects.filter(note=seeded).update(note=shown)


def notes_restore(apps, schema_editor):
    for model, seeded, shown in NOTES:
        apps.get_model("catalog", model).objects.filter(note=shown).update(note=seeded)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0007_offering_capacity_reports")]
    operations = [
        migrations.AlterField(
            model_name="region",
            name="object_endpoint",
            field=models.URLField(
                blank=True, max_length=200,
                help_text="The S3-compatible object storage endpoint that pods in this region read models from; "
                          "empty: the one in the model's storage Secret."),
        ),
        migrations.AlterField(
            model_name="region",
            name="accelerated_endpoint",
            field=models.URLField(
                blank=True, max_length=200,
                help_text="The platform's accelerated (cached, node-local) object storage endpoint, reachable from "
                          "pods inside its clusters; empty: the one in the model's storage Secret."),
        ),
        migrations.RunPython(notes_reword, notes_restore),
    ]
