"""Apply, read, list and delete objects: every request Gantry sends to a cluster.

Conflict policy for server-side apply: Gantry applies with field manager
`gantry` and force=true. Gantry owns every field it renders and takes it back
from any other manager (kubectl edits, other controllers); fields Gantry does
not render (status, defaults, annotations added by controllers) stay theirs.
"""

import re

import orjson

from .client import ClusterError, NotFound, request
from .labels import DEPLOYMENT_LABEL, MANAGED_BY, MANAGED_BY_LABEL, MANAGED_SELECTOR

FIELD_MANAGER = "gantry"
APPLY_CONTENT_TYPE = "application/apply-patch+yaml"

# (apiVersion, kind) -> (plural, namespaced). Fixed, so a push needs no discovery round-trips.
RESOURCES = {
    ("v1", "Namespace"): ("namespaces", False),
    ("v1", "Pod"): ("pods", True),
    ("v1", "Event"): ("events", True),
    ("v1", "Service"): ("services", True),
    ("v1", "ConfigMap"): ("configmaps", True),
    ("v1", "Secret"): ("secrets", True),
    ("v1", "ServiceAccount"): ("serviceaccounts", True),
    ("v1", "PersistentVolumeClaim"): ("persistentvolumeclaims", True),
    ("apps/v1", "Deployment"): ("deployments", True),
    ("serving.knative.dev/v1", "Service"): ("services", True),
    ("serving.kserve.io/v1beta1", "InferenceService"): ("inferenceservices", True),
    ("argoproj.io/v1alpha1", "Workflow"): ("workflows", True),
    ("argoproj.io/v1alpha1", "CronWorkflow"): ("cronworkflows", True),
}
KNATIVE = ("serving.knative.dev/v1", "Service")
KSERVE = ("serving.kserve.io/v1beta1", "InferenceService")
ARGO = ("argoproj.io/v1alpha1", "Workflow")
ARGO_CRON = ("argoproj.io/v1alpha1", "CronWorkflow")
# The label Argo puts on each Workflow a CronWorkflow starts (workflow/common/common.go, Argo v3.6).
CRON_WORKFLOW_LABEL = "workflows.argoproj.io/cron-workflow"
# Target (deployments.models.Target) -> the kind that carries its status.
TARGET_KINDS = {"knative": KNATIVE, "kserve": KSERVE, "argo": ARGO}


def _collection_path(api_version, kind, namespace=None):
    plural, namespaced = RESOURCES.get((api_version, kind), (kind.lower() + "s", True))
    root = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    if namespaced:
        if not namespace:
            raise ClusterError(f"{kind} needs a namespace", permanent=True)
        return f"{root}/namespaces/{namespace}/{plural}"
    return f"{root}/{plural}"


def cluster_wide_path(api_version, kind):
    """The collection of a kind across all namespaces (/api/v1/pods): what the watcher lists and watches."""
    plural, _ = RESOURCES.get((api_version, kind), (kind.lower() + "s", True))
    root = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    return f"{root}/{plural}"


def _object_path(obj):
    meta = obj.get("metadata") or {}
    name = meta.get("name")
    if not name or not obj.get("apiVersion") or not obj.get("kind"):
        raise ClusterError("an object needs apiVersion, kind and metadata.name", permanent=True)
    return f"{_collection_path(obj['apiVersion'], obj['kind'], meta.get('namespace'))}/{name}"


def object_describe(obj):
    meta = obj.get("metadata") or {}
    return f"{obj.get('kind')} {meta.get('namespace', '') + '/' if meta.get('namespace') else ''}{meta.get('name')}"


def cluster_ping(*, cluster=None, timeout=None):
    """The API server's version string; ClusterError when it cannot be reached (within `timeout` seconds)."""
    version = request("GET", "/version", what="version", cluster=cluster, timeout=timeout)
    return version.get("gitVersion") or "unknown"


def object_apply(obj, *, cluster=None):
    """Server-side apply of one object (creates it when missing); returns the object as stored."""
    return request(
        "PATCH",
        _object_path(obj),
        query={"fieldManager": FIELD_MANAGER, "force": "true"},
        # Serialized here: the client sends a YAML-typed body given as bytes unchanged (kubernetes 37
        # client/rest.py), instead of walking every field (sanitize_for_serialization) and json.dumps: a
        # tenth of a push's CPU in the profile. JSON is YAML, as the client itself relies on.
        body=orjson.dumps(obj),
        content_type=APPLY_CONTENT_TYPE,
        what=f"applying {object_describe(obj)}",
        cluster=cluster,
    )


def namespace_ensure(name, labels=None, *, cluster=None):
    """Create the namespace if needed and make sure it carries Gantry's labels."""
    obj = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {MANAGED_BY_LABEL: MANAGED_BY, **(labels or {})}},
    }
    return object_apply(obj, cluster=cluster)


def objects_apply(objects, *, cluster=None):
    """Apply every object in order; stops at the first error (a re-push resumes idempotently)."""
    return [object_apply(obj, cluster=cluster) for obj in objects]


def object_get(obj_ref, *, cluster=None):
    """The live object for a reference (any dict with apiVersion, kind, metadata), or None if absent."""
    try:
        return request("GET", _object_path(obj_ref), what=f"reading {object_describe(obj_ref)}", cluster=cluster)
    except NotFound:
        return None


def objects_delete(objects, propagation="Foreground", *, cluster=None):
    """Delete objects (in reverse order); an object already gone counts as deleted. Returns how many were there."""
    existed = 0
    options = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": propagation}
    for obj in reversed(list(objects)):
        try:
            request(
                "DELETE",
                _object_path(obj),
                query={"propagationPolicy": propagation},
                body=options,
                what=f"deleting {object_describe(obj)}",
                cluster=cluster,
            )
            existed += 1
        except NotFound:
            continue
    return existed


def objects_list(api_version, kind, namespace, *, label_selector=MANAGED_SELECTOR, cluster=None):
    """Every object of a kind in a namespace (one call). A type the cluster does not serve raises NotFound."""
    query = {"labelSelector": label_selector} if label_selector else {}
    result = request(
        "GET", _collection_path(api_version, kind, namespace), query=query, what=f"listing {kind} in {namespace}",
        cluster=cluster,
    )
    items = result.get("items") or []
    for item in items:  # list items omit these; callers compare whole objects
        item.setdefault("apiVersion", api_version)
        item.setdefault("kind", kind)
    return items


def pods_list(namespace, *, cluster=None):
    """Gantry's pods in a namespace, in one call; callers aggregate per deployment by label."""
    return objects_list("v1", "Pod", namespace, cluster=cluster)


def events_list(namespace, name, *, cluster=None):
    """Kubernetes events about one deployment's objects, newest last.

    An event counts when its object is the deployment's own (named `name`), one of its pods
    (found by the deployment label, so "chat" never collects the pods of "chat-v2"), or one of
    the Knative Revisions of its Service (`<name>-00001`: Knative Serving names a revision
    kmeta.ChildName(configuration, fmt.Sprintf("-%05d", generation)), and the Configuration is
    named after the Service).
    """
    pods = objects_list("v1", "Pod", namespace, label_selector=f"{DEPLOYMENT_LABEL}={name}",
                        cluster=cluster)
    owned = {name} | {pod["metadata"]["name"] for pod in pods}
    revision = re.compile(rf"{re.escape(name)}-[0-9]{{5}}")
    result = request("GET", _collection_path("v1", "Event", namespace), what=f"listing events in {namespace}",
                     cluster=cluster)
    events = [ev for ev in result.get("items") or []
              if (involved := (ev.get("involvedObject") or {}).get("name", "")) in owned or revision.fullmatch(involved)]
    return sorted(events, key=lambda ev: ev.get("lastTimestamp") or ev.get("eventTime") or "")
