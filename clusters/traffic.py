"""What the cluster says about a serving deployment's traffic: the split its Route resolved and the ready
pods of each revision. Read on demand (the deployment page, the start of a canary), not by the status sync.

Knative reports the resolved split in the Service's `status.traffic` (each target with its `revisionName`)
and the newest ready revision in `status.latestReadyRevisionName`; KServe reports the same targets in
`status.components.predictor.traffic` (KServe v1beta1 ComponentStatusSpec). Knative labels the objects a
Revision creates, its pods included, with `serving.knative.dev/revision` (RevisionLabelKey, knative/serving
pkg/apis/serving/register.go).
"""

from collections import defaultdict
from dataclasses import dataclass, field

from .labels import DEPLOYMENT_LABEL, REVISION_ANNOTATION
from .objects import object_get, pods_list

REVISION_LABEL = "serving.knative.dev/revision"


@dataclass
class ServingTraffic:
    present: bool = False
    applied_revision: int | None = None  # Gantry's revision annotation on the live object
    latest_ready: str = ""  # the newest ready Knative Revision
    # [{"revision": name, "percent": int, "tag": str, "latest": bool}] as the Route resolved it
    traffic: list = field(default_factory=list)
    # {Knative Revision name ("" when pods carry none): {"ready": n, "total": n}}
    pods: dict = field(default_factory=dict)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _pod_ready(pod):
    status = pod.get("status") or {}
    if status.get("phase") != "Running":
        return False
    conditions = status.get("conditions")
    return not conditions or any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def revision_pods(namespace, deployment_name, *, cluster=None):
    """{revision name: {"ready", "total"}} of one deployment's running or starting pods (one pods list)."""
    out = defaultdict(lambda: {"ready": 0, "total": 0})
    for pod in pods_list(namespace, cluster=cluster):
        labels = (pod.get("metadata") or {}).get("labels") or {}
        if labels.get(DEPLOYMENT_LABEL) != deployment_name:
            continue
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        counts = out[labels.get(REVISION_LABEL, "")]
        counts["total"] += 1
        counts["ready"] += int(_pod_ready(pod))
    return dict(out)


def serving_traffic_read(obj_ref, *, deployment_name, with_pods=True, cluster=None):
    """The live split and pods of a Knative Service or InferenceService; ClusterError propagates."""
    live = object_get(obj_ref, cluster=cluster)
    meta = obj_ref.get("metadata") or {}
    result = ServingTraffic(pods=revision_pods(meta.get("namespace"), deployment_name, cluster=cluster)
                            if with_pods else {})
    if live is None:
        return result
    status = live.get("status") or {}
    if live.get("kind") == "InferenceService":
        status = ((status.get("components") or {}).get("predictor")) or {}
        latest_ready = status.get("latestReadyRevision") or ""
    else:
        latest_ready = status.get("latestReadyRevisionName") or ""
    result.present = True
    result.applied_revision = _int(((live.get("metadata") or {}).get("annotations") or {}).get(REVISION_ANNOTATION))
    result.latest_ready = latest_ready
    result.traffic = [
        {"revision": t.get("revisionName") or "", "percent": _int(t.get("percent")) or 0, "tag": t.get("tag") or "",
         "latest": bool(t.get("latestRevision"))}
        for t in status.get("traffic") or [] if isinstance(t, dict)
    ]
    return result
