"""The audit trail's one table."""

from django.conf import settings
from django.db import models


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
        "deployments.Deployment", null=True, blank=True, on_delete=models.CASCADE, related_name="events"
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
