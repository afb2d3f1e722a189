from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('deployments', '0005_superseded_objects'),
    ]

    operations = [
        migrations.AddField(
            model_name='revision',
            name='pushed_at',
            field=models.DateTimeField(blank=True, help_text='The first push of this revision began', null=True),
        ),
        migrations.AddField(
            model_name='revision',
            name='ready_at',
            field=models.DateTimeField(blank=True, help_text='The deployment first ran this revision ready', null=True),
        ),
    ]
