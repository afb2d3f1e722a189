from django.conf import settings
from django.db import models
from django.db.models import Q

from clusters.labels import namespace_for
from specs.vocabulary import Status, Target, Workload

from .state import FINAL_STATUSES


class Deployment(models.Model):
    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="deployments")
    name = models.CharField(max_length=40)
    workload = models.CharField(max_length=16, choices=Workload.choices)
    target = models.CharField(max_length=16, choices=Target.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    status_message = models.TextField(blank=True)
    current_revision = models.ForeignKey(
        "Revision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Revision number the cluster last accepted (None: never pushed).
    applied_revision = models.PositiveIntegerField(null=True, blank=True)
    # Main objects of an earlier target or workload (the Knative Service after a switch to KServe): kept
    # serving until the new one is ready, then removed by reconcile. [{"apiVersion", "kind", "name", "cluster"}]:
    # "cluster" is the Cluster record's name (None: the default cluster; absent, as written before clusters:
    # where the deployment is applied). A move to another region's cluster lists all its objects on the old one.
    superseded = models.JSONField(default=list, blank=True)
    # The cluster the last push applied to: a Cluster record's name, "" the default cluster, None not recorded
    # (never pushed, or pushed before this was kept: taken as its region's cluster).
    applied_cluster = models.CharField(max_length=63, null=True, blank=True)
    # Batch: the run the status follows (its Workflow is <name>-run-<n>); None for runs before runs had numbers.
    current_run = models.PositiveIntegerField(null=True, blank=True)
    # Batch on a schedule: an Argo CronWorkflow makes the runs; each one Argo starts gets a Run row (sync).
    scheduled = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Denormalised from the current revision so lists and filters need no JSON digging.
    gpu_class = models.CharField(max_length=64, blank=True, db_index=True)
    region = models.CharField(max_length=32, blank=True, db_index=True)
    gpus_per_replica = models.PositiveIntegerField(default=1)
    # What the current revision may hold at most: the team's quota and budget count these in SQL.
    gpus_max = models.PositiveIntegerField(default=0)
    monthly_max_usd = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    # Latest observed state, written by the status sync.
    ready_pods = models.PositiveIntegerField(default=0)
    total_pods = models.PositiveIntegerField(default=0)
    gpus_in_use = models.PositiveIntegerField(default=0)
    url = models.CharField(max_length=300, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    sampled_at = models.DateTimeField(null=True, blank=True, help_text="Time of the latest StatusSample")
    last_pushed_at = models.DateTimeField(null=True, blank=True)
    push_attempts = models.PositiveIntegerField(default=0)
    scaled_to_zero_at = models.DateTimeField(null=True, blank=True, help_text="Last time it reached zero pods")
    idle_since = models.DateTimeField(
        null=True, blank=True, help_text="Traffic stopped; pods are kept warm until the retention ends"
    )
    drift_detected_at = models.DateTimeField(null=True, blank=True)

    # Canary rollouts (deployments/services/rollouts.py). rollout_stable is None until the first canary;
    # from then on Knative revisions are named after Gantry's (specs/traffic.py). While the current revision
    # is rollout_candidate it gets canary_percent of the traffic: 1-99 a canary, 0 rolled back, 100 promoted.
    rollout_stable = models.PositiveIntegerField(null=True, blank=True, help_text="Revision the rest of the traffic stays on")
    rollout_stable_name = models.CharField(max_length=63, blank=True, help_text="Its Knative Revision's name")
    rollout_candidate = models.PositiveIntegerField(null=True, blank=True, help_text="Revision the canary share goes to")
    canary_percent = models.PositiveSmallIntegerField(default=0)

    # Batch runs.
    shards_total = models.PositiveIntegerField(default=0)
    shards_done = models.PositiveIntegerField(default=0)
    run_started_at = models.DateTimeField(null=True, blank=True)
    run_finished_at = models.DateTimeField(null=True, blank=True)

    # Approvals (over budget or quota).
    approval_reason = models.TextField(blank=True)
    decision_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["team", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "name"], condition=~Q(status="deleted"), name="unique_live_name_per_team"
            )
        ]
        # Covering the quota's sums (services/quota.py: team_usage), so every create reads them from the index
        # alone instead of each live deployment's row.
        indexes = [models.Index(fields=["team", "status"], include=["gpus_max", "monthly_max_usd"],
                                name="deployment_team_status_held"),
                   # Only the deployments holding GPUs now, for the dashboard's burn rate per team.
                   models.Index(fields=["team"], include=["gpu_class", "gpus_in_use"],
                                name="deployment_team_gpus_in_use",
                                condition=Q(gpus_in_use__gt=0) & ~Q(status="deleted"))]

    def __str__(self):
        return f"{self.team.slug}/{self.name}"

    @property
    def namespace(self):
        return namespace_for(self.team.slug)

    @property
    def is_final(self):
        return self.status in FINAL_STATUSES


class Revision(models.Model):
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    spec = models.JSONField(help_text="The completed spec (after recommendations)")
    manifests = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=200, blank=True)
    # Time to ready: the push began applying this revision, and the deployment first ran it (sync).
    pushed_at = models.DateTimeField(null=True, blank=True, help_text="The first push of this revision began")
    ready_at = models.DateTimeField(null=True, blank=True, help_text="The deployment first ran this revision ready")

    class Meta:
        ordering = ["deployment", "-number"]
        constraints = [models.UniqueConstraint(fields=["deployment", "number"], name="unique_revision_number")]

    @property
    def ready_seconds(self):
        """Seconds from push start to ready, None until both are known."""
        if self.pushed_at is None or self.ready_at is None:
            return None
        return max(0.0, (self.ready_at - self.pushed_at).total_seconds())

    def __str__(self):
        return f"{self.deployment} r{self.number}"


class Run(models.Model):
    """One run of a batch deployment: its own Argo Workflow. The record stays after Argo's TTL removes it."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="runs")
    number = models.PositiveIntegerField()
    revision = models.PositiveIntegerField(help_text="The revision the run executes")
    workflow_name = models.CharField(max_length=63)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    shards_total = models.PositiveIntegerField(default=0)
    shards_done = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["deployment", "-number"]
        constraints = [models.UniqueConstraint(fields=["deployment", "number"], name="unique_run_number")]

    def __str__(self):
        return self.workflow_name


class Draft(models.Model):
    """Wizard state, kept in the database so a reload or another browser resumes it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts")
    team = models.ForeignKey("teams.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    deployment = models.ForeignKey(
        Deployment, null=True, blank=True, on_delete=models.CASCADE, related_name="drafts",
        help_text="Set when the draft edits an existing deployment",
    )
    step = models.PositiveSmallIntegerField(default=1)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]


class IdempotencyKey(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="+")
    # SHA-256 of the request's spec: the same key with another body is a mistake, not a retry.
    body_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_idempotency_key")]
