from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("deployments", "0010_deployment_scheduled"),
    ]

    operations = [
        migrations.AddField(
            model_name="deployment",
            name="applied_cluster",
            field=models.CharField(blank=True, max_length=63, null=True),
        ),
    ]
