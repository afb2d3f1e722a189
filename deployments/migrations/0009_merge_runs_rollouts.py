"""Batch runs, revision ready times and canary rollouts were added side by side on 0005; this joins them."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("deployments", "0006_batch_runs"),
        ("deployments", "0007_revision_ready_times"),
        ("deployments", "0008_canary_rollouts"),
    ]
    operations = []
