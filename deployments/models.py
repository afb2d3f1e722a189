from django.conf import settings
from django.db import models
from django.db.models import Q


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING_APPROVAL = "pending_approval", "Pending approval"
    REJECTED = "rejected", "Rejected"
    QUEUED = "queued", "Queued"
    APPLYING = "applying", "Applying"
    RUNNING = "running", "Running"
    SCALED_TO_ZERO = "scaled_to_zero", "Scaled to zero"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    DELETING = "deleting", "Deleting"
    DELETED = "deleted", "Deleted"


# States after which nothing changes on its own: live polling stops here.
FINAL_STATUSES = (Status.DELETED, Status.REJECTED, Status.SUCCEEDED, Status.FAILED)
# States whose objects should exist in the cluster (synced and reconciled).
LIVE_STATUSES = (Status.APPLYING, Status.RUNNING, Status.SCALED_TO_ZERO)


class Workload(models.TextChoices):
    ONLINE = "online", "Online (request/response)"
    BATCH = "batch", "Batch (Argo Workflow)"


class Target(models.TextChoices):
    KNATIVE = "knative", "Knative Service"
    KSERVE = "kserve", "KServe InferenceService"
    ARGO = "argo", "Argo Workflow"


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
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Denormalised from the current revision so lists and filters need no JSON digging.
    gpu_class = models.CharField(max_length=64, blank=True, db_index=True)
    region = models.CharField(max_length=32, blank=True, db_index=True)
    gpus_per_replica = models.PositiveIntegerField(default=1)

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
        indexes = [models.Index(fields=["team", "status"])]

    def __str__(self):
        return f"{self.team.slug}/{self.name}"

    @property
    def namespace(self):
        return f"tenant-{self.team.slug}"

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

    class Meta:
        ordering = ["deployment", "-number"]
        constraints = [models.UniqueConstraint(fields=["deployment", "number"], name="unique_revision_number")]

    def __str__(self):
        return f"{self.deployment} r{self.number}"


class Event(models.Model):
    """One row per state change or action: the history and the audit trail at once."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        CHANGED = "changed", "Spec changed"
        STATUS = "status", "Status change"
        PUSH = "push", "Pushed to cluster"
        SYNC = "sync", "Sync"
        DRIFT = "drift", "Drift detected"
        APPROVAL = "approval", "Approval decision"
        TEARDOWN = "teardown", "Tear down"
        ROLLBACK = "rollback", "Rollback"
        ADMIN = "admin", "Admin action"
        CATALOG = "catalog", "Catalog change"
        TEAM = "team", "Team change"

    deployment = models.ForeignKey(
        Deployment, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    team = models.ForeignKey("teams.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["deployment", "-created_at"])]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.kind} {self.message[:60]}"


class StatusSample(models.Model):
    """What sync saw at one instant: the raw material of charts and spend."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="samples")
    at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices)
    ready_pods = models.PositiveIntegerField()
    total_pods = models.PositiveIntegerField()
    gpus_in_use = models.PositiveIntegerField()
    # The class the pods ran on then: a later revision may move the deployment to another class.
    gpu_class = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["deployment", "at"]
        indexes = [models.Index(fields=["deployment", "at"]), models.Index(fields=["at"])]


class DailySpend(models.Model):
    """Spend rolled up per deployment per day, so spend questions stay fast as samples grow."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="daily_spend")
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
        indexes = [models.Index(fields=["team", "day"])]


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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_idempotency_key")]
