"""clusters: the only code that talks to Kubernetes.

Owns the client (configuration only: a kubeconfig path or the in-cluster service account; every call
takes an optional `cluster=` ClusterRef, the default cluster without one), the Cluster records staff
declare per region (models.py; selectors.py says which cluster serves a region: import it directly,
it reads the database),
Gantry's label keys and the namespace rule (labels.py), apply/read/list/delete (objects.py),
what an object's status says (status.py) and the observation half of sync (observe.py).
Every failure leaves as ClusterError(message, permanent). The names below are the app's API.
"""

from .capacity import GPU_CLASS_LABEL, REGION_LABEL, capacity_read
from .client import ClusterError, ClusterRef, NotFound, api_client
from .labels import (
    DEPLOYMENT_LABEL,
    MANAGED_SELECTOR,
    REVISION_ANNOTATION,
    TEAM_LABEL,
    namespace_for,
)
from .objects import (
    ARGO,
    ARGO_CRON,
    CRON_WORKFLOW_LABEL,
    FIELD_MANAGER,
    KNATIVE,
    KSERVE,
    RESOURCES,
    TARGET_KINDS,
    cluster_ping,
    events_list,
    namespace_ensure,
    object_apply,
    object_describe,
    object_get,
    objects_apply,
    objects_delete,
    objects_list,
    pods_list,
)
from .logs import deployment_pods_list, pod_logs, pod_logs_follow
from .observe import Observation, live_objects, namespace_observe
from .status import object_status, status_read
from .volumes import claim_to_apply, created_by_gantry, is_claim

__all__ = [
    "ARGO", "ARGO_CRON", "CRON_WORKFLOW_LABEL", "DEPLOYMENT_LABEL", "FIELD_MANAGER", "KNATIVE", "KSERVE", "MANAGED_SELECTOR",
    "RESOURCES", "REVISION_ANNOTATION", "TARGET_KINDS", "TEAM_LABEL", "ClusterError", "ClusterRef", "NotFound",
    "Observation",
    "api_client", "cluster_ping", "events_list", "live_objects", "namespace_ensure", "namespace_for",
    "namespace_observe", "object_apply", "object_describe", "object_get", "object_status", "objects_apply",
    "objects_delete", "objects_list", "pods_list", "status_read", "claim_to_apply", "created_by_gantry", "is_claim",
    "deployment_pods_list", "pod_logs", "pod_logs_follow", "GPU_CLASS_LABEL", "REGION_LABEL", "capacity_read",
]
