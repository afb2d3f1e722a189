"""The words of the contract (../shared/SPEC.md): workloads, targets and the status phases the API reports.

Plain choices, no behaviour: which status may follow which lives in deployments/state.py.
"""

from django.db import models


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
    TEARDOWN_FAILED = "teardown_failed", "Tear down failed"
    DELETED = "deleted", "Deleted"


class Workload(models.TextChoices):
    ONLINE = "online", "Online (request/response)"
    BATCH = "batch", "Batch (Argo Workflow)"


class Target(models.TextChoices):
    KNATIVE = "knative", "Knative Service"
    KSERVE = "kserve", "KServe InferenceService"
    ARGO = "argo", "Argo Workflow"
