"""What sync saw (samples) and what it cost (daily rollups)."""

from django.db import models

from specs.vocabulary import Status


class StatusSample(models.Model):
    """What sync saw at one instant: the raw material of charts and spend."""

    deployment = models.ForeignKey("deployments.Deployment", on_delete=models.CASCADE, related_name="samples")
    at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices)
    ready_pods = models.PositiveIntegerField()
    total_pods = models.PositiveIntegerField()
    gpus_in_use = models.PositiveIntegerField()
    # The class the pods ran on then: a later revision may move the deployment to another class.
    gpu_class = models.CharField(max_length=64, blank=True, default="")
    # CPU nodes (`compute.accelerator: cpu`): what the running pods requested then, the spec's
    # compute.cpu and compute.memory_gi × running pods (spend.metering.cpu_held); zero on GPU nodes.
    vcpus_in_use = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    memory_gi_in_use = models.DecimalField(max_digits=12, decimal_places=3, default=0)

    class Meta:
        ordering = ["deployment", "at"]
        indexes = [models.Index(fields=["deployment", "at"]), models.Index(fields=["at"])]


class DailySpend(models.Model):
    """Spend rolled up per deployment per day, so spend questions stay fast as samples grow."""

    deployment = models.ForeignKey("deployments.Deployment", on_delete=models.CASCADE, related_name="daily_spend")
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="daily_spend")
    day = models.DateField()
    gpu_hours = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    warm_cost_usd = models.DecimalField(
        max_digits=14, decimal_places=6, default=0, help_text="Spent on pods kept warm while idle"
    )

    class Meta:
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["deployment", "day"], name="one_rollup_per_day")]
        # Covering today's sums of month to date (selectors.teams_month_to_date), which every create's budget
        # check and every dashboard reads: one index entry per deployment, not its row.
        indexes = [models.Index(fields=["team", "day"], include=["cost_usd", "warm_cost_usd"],
                                name="dailyspend_team_day_cost")]


class TeamDailySpend(models.Model):
    """DailySpend summed per team and day, for month-to-date: about 30 rows a team instead of one per
    deployment and day. Written by spend.rollups with every DailySpend upsert, for the days it wrote;
    readers take today from DailySpend itself (spend.selectors.teams_month_to_date)."""

    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="team_daily_spend")
    day = models.DateField()
    gpu_hours = models.DecimalField(max_digits=16, decimal_places=6, default=0)
    cost_usd = models.DecimalField(max_digits=16, decimal_places=6, default=0)
    warm_cost_usd = models.DecimalField(max_digits=16, decimal_places=6, default=0)

    class Meta:
        ordering = ["team", "day"]
        constraints = [models.UniqueConstraint(fields=["team", "day"], name="one_team_rollup_per_day")]
