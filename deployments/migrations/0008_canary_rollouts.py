from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('deployments', '0005_superseded_objects'),
    ]

    operations = [
        migrations.AddField(
            model_name='deployment',
            name='rollout_stable',
            field=models.PositiveIntegerField(blank=True, help_text='Revision the rest of the traffic stays on', null=True),
        ),
        migrations.AddField(
            model_name='deployment',
            name='rollout_stable_name',
            field=models.CharField(blank=True, help_text="Its Knative Revision's name", max_length=63),
        ),
        migrations.AddField(
            model_name='deployment',
            name='rollout_candidate',
            field=models.PositiveIntegerField(blank=True, help_text='Revision the canary share goes to', null=True),
        ),
        migrations.AddField(
            model_name='deployment',
            name='canary_percent',
            field=models.PositiveSmallIntegerField(default=0),
        ),
    ]
