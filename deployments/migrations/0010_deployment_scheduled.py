from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("deployments", "0009_merge_runs_rollouts"),
    ]

    operations = [
        migrations.AddField(
            model_name="deployment",
            name="scheduled",
            field=models.BooleanField(default=False),
        ),
    ]
