"""What a Knative Service, KServe InferenceService or Argo Workflow says about itself, in one shape."""

from .labels import IDLE_SINCE_ANNOTATION, REVISION_ANNOTATION
from .objects import KNATIVE, KSERVE, object_get


def _condition(obj, kind="Ready"):
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def _min_scale(obj):
    api_kind = (obj.get("apiVersion"), obj.get("kind"))
    spec = obj.get("spec") or {}
    try:
        if api_kind == KNATIVE:
            annotations = ((spec.get("template") or {}).get("metadata") or {}).get("annotations") or {}
            return int(annotations.get("autoscaling.knative.dev/min-scale", 0))
        if api_kind == KSERVE:
            return int((spec.get("predictor") or {}).get("minReplicas", 1))
    except (TypeError, ValueError):
        return None
    return None


def status_read(obj):
    """What an object's status says, in one shape for Knative, KServe and Argo (pure; no API call).

    ready: True/False/None (None: not decided yet); phase: the Argo phase; progress: (done, total).
    """
    status = obj.get("status") or {}
    ready_cond = _condition(obj)
    ready = None
    message = ""
    if ready_cond is not None:
        ready = {"True": True, "False": False}.get(ready_cond.get("status"))
        message = ready_cond.get("message") or ready_cond.get("reason") or ""
    progress = None
    raw = status.get("progress")
    if isinstance(raw, str) and "/" in raw:
        done, _, total = raw.partition("/")
        if done.strip().isdigit() and total.strip().isdigit():
            progress = (int(done), int(total))
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return {
        "ready": ready,
        "message": message or status.get("message") or "",
        "url": status.get("url") or "",
        "phase": status.get("phase") or "",
        "progress": progress,
        "started_at": status.get("startedAt"),
        "finished_at": status.get("finishedAt"),
        "min_scale": _min_scale(obj),
        "revision": annotations.get(REVISION_ANNOTATION),
        "deleting": bool((obj.get("metadata") or {}).get("deletionTimestamp")),
        # Set by a traffic-metrics adapter (the sandbox simulates one) while pods are kept warm.
        "idle_since": (status.get("annotations") or {}).get(IDLE_SINCE_ANNOTATION),
    }


def object_status(obj_ref):
    """Read one object and its status; None when it does not exist."""
    obj = object_get(obj_ref)
    return None if obj is None else status_read(obj)
