"""What a Knative Service, KServe InferenceService or Argo Workflow says about itself, in one shape."""

from urllib.parse import urlsplit

from .labels import REVISION_ANNOTATION
from .objects import KNATIVE, KSERVE, object_get

MAX_URL = 300  # deployments.Deployment.url's column
MAX_MESSAGE = 2000


def _dict(value):
    return value if isinstance(value, dict) else {}


def _text(value, limit=MAX_MESSAGE):
    return value[:limit] if isinstance(value, str) else ""


def _url(value):
    """An http(s) URL short enough to store, else "": the page renders it as a link."""
    if isinstance(value, str) and len(value) <= MAX_URL and urlsplit(value).scheme in ("http", "https"):
        return value
    return ""


def _condition(obj, kind="Ready"):
    conditions = _dict(obj.get("status")).get("conditions")
    for cond in conditions if isinstance(conditions, list) else []:
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return None


def _min_scale(obj):
    api_kind = (obj.get("apiVersion"), obj.get("kind"))
    spec = _dict(obj.get("spec"))
    try:
        if api_kind == KNATIVE:
            annotations = _dict(_dict(_dict(spec.get("template")).get("metadata")).get("annotations"))
            return int(annotations.get("autoscaling.knative.dev/min-scale", 0))
        if api_kind == KSERVE:
            return int(_dict(spec.get("predictor")).get("minReplicas", 1))
    except (TypeError, ValueError, OverflowError):
        return None
    return None


def status_read(obj):
    """What an object's status says, in one shape for Knative, KServe and Argo (pure; no API call).

    ready: True/False/None (None: not decided yet); phase: the Argo phase; progress: (done, total).
    Whatever the cluster wrote is checked before it is believed: wrong types read as absent, text
    is bounded, and a URL must be http(s) (it becomes a link on the deployment page).
    """
    status = _dict(obj.get("status"))
    ready_cond = _condition(obj)
    ready = None
    message = ""
    if ready_cond is not None:
        ready = {"True": True, "False": False}.get(ready_cond.get("status"))
        message = _text(ready_cond.get("message")) or _text(ready_cond.get("reason"))
    progress = None
    raw = status.get("progress")
    if isinstance(raw, str) and "/" in raw:
        done, _, total = raw.partition("/")
        if done.strip().isdigit() and total.strip().isdigit() and len(done.strip() + total.strip()) <= 12:
            progress = (int(done), int(total))
    metadata = _dict(obj.get("metadata"))
    annotations = _dict(metadata.get("annotations"))
    return {
        "ready": ready,
        "message": message or _text(status.get("message")),
        "url": _url(status.get("url")),
        "phase": _text(status.get("phase"), 40),
        "progress": progress,
        "started_at": _text(status.get("startedAt"), 40) or None,
        "finished_at": _text(status.get("finishedAt"), 40) or None,
        "min_scale": _min_scale(obj),
        "revision": _text(annotations.get(REVISION_ANNOTATION), 20) or None,
        "deleting": bool(metadata.get("deletionTimestamp")),
        # When the object last turned Ready (its Ready condition's lastTransitionTime): time to ready.
        "ready_since": (_text(ready_cond.get("lastTransitionTime"), 40) or None) if ready else None,
    }


def object_status(obj_ref, *, cluster=None):
    """Read one object and its status; None when it does not exist."""
    obj = object_get(obj_ref, cluster=cluster)
    return None if obj is None else status_read(obj)
