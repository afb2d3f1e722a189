"""The only code that talks to a Kubernetes API.

The client comes from configuration only: the kubeconfig at settings.KUBECONFIG
(read at call time, so tests and `make run` point it at the sandbox), else the
in-cluster service account, else "no cluster configured". Nothing patches it.

Every failure leaves this module as ClusterError(message, permanent):
permanent when retrying cannot help (400, 401, 403, 404 for a type the cluster
does not serve, 409, 422 ...) carrying the API server's own message; transient
for 429, 5xx, timeouts and dropped connections, which the push task retries.

Conflict policy for server-side apply: Gantry applies with field manager
`gantry` and force=true. Gantry owns every field it renders and takes it back
from any other manager (kubectl edits, other controllers); fields Gantry does
not render (status, defaults, annotations added by controllers) stay theirs.
"""

import json
import logging
import os
import threading

import urllib3
from django.conf import settings
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

log = logging.getLogger(__name__)

FIELD_MANAGER = "gantry"
APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
MANAGED_SELECTOR = "app.kubernetes.io/managed-by=gantry"
DEPLOYMENT_LABEL = "gantry.io/deployment"
TEAM_LABEL = "gantry.io/team"
REVISION_ANNOTATION = "gantry.io/revision"

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
}
KNATIVE = ("serving.knative.dev/v1", "Service")
KSERVE = ("serving.kserve.io/v1beta1", "InferenceService")
ARGO = ("argoproj.io/v1alpha1", "Workflow")
# Target (deployments.models.Target) -> the kind that carries its status.
TARGET_KINDS = {"knative": KNATIVE, "kserve": KSERVE, "argo": ARGO}

_IN_CLUSTER_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
_PERMANENT_STATUSES = {400, 401, 403, 404, 405, 409, 410, 415, 422}


class ClusterError(Exception):
    def __init__(self, message, permanent=False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class NotFound(ClusterError):
    """404: the object (or its type) is not there. Callers that expect absence catch it."""

    def __init__(self, message):
        super().__init__(message, permanent=True)


_clients = {}
_clients_lock = threading.Lock()
# A forked worker child must not share the parent's sockets: it builds its own client.
os.register_at_fork(after_in_child=_clients.clear)


def _configuration_new():
    configuration = k8s_client.Configuration()
    # urllib3 would otherwise retry silently (and twice for a GET): retries belong to the task.
    configuration.retries = False
    return configuration


def api_client():
    """The ApiClient for the configured cluster, cached per kubeconfig file (and its mtime)."""
    path = settings.KUBECONFIG
    context = getattr(settings, "KUBE_CONTEXT", "") or None
    if path:
        try:
            key = (path, context, os.stat(path).st_mtime_ns)
        except OSError as exc:
            raise ClusterError(f"kubeconfig {path}: {exc.strerror}", permanent=True) from exc
    elif os.path.exists(_IN_CLUSTER_TOKEN) and os.environ.get("KUBERNETES_SERVICE_HOST"):
        key = ("in-cluster",)
    else:
        raise ClusterError("no cluster configured", permanent=True)
    with _clients_lock:
        cached = _clients.get(key)
        if cached is not None:
            return cached
        configuration = _configuration_new()
        try:
            if path:
                k8s_config.load_kube_config(
                    config_file=path, context=context, client_configuration=configuration, persist_config=False
                )
            else:
                k8s_config.load_incluster_config(client_configuration=configuration)
        except (ConfigException, OSError, ValueError, TypeError) as exc:
            raise ClusterError(f"cannot load cluster configuration: {exc}", permanent=True) from exc
        configuration.retries = False
        cached = k8s_client.ApiClient(configuration=configuration)
        _clients[key] = cached
        return cached


def _server_message(exc):
    """The API server's own message from a Status body, else the HTTP reason."""
    try:
        body = json.loads(exc.body or "")
    except (TypeError, ValueError):
        body = None
    if isinstance(body, dict) and body.get("message"):
        return body["message"]
    return f"HTTP {exc.status} {exc.reason or ''}".strip()


def _request(method, path, *, query=None, body=None, content_type=None, what=""):
    """One HTTP call; returns the decoded JSON body. Raises ClusterError (NotFound for 404)."""
    api = api_client()
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = content_type or "application/json"
    prefix = f"{what}: " if what else ""
    try:
        request = api.param_serialize(
            method=method,
            resource_path=path,
            query_params=list((query or {}).items()),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = api.call_api(*request, _request_timeout=settings.KUBE_REQUEST_TIMEOUT)
        data = response.read()
        if not 200 <= response.status <= 299:
            raise ApiException(
                status=response.status, reason=response.reason, body=data.decode("utf-8", "replace")
            )
    except ApiException as exc:
        if exc.status == 0:  # raised by the client itself (TLS trouble and the like)
            raise ClusterError(f"{prefix}{exc.reason}", permanent=False) from exc
        message = f"{prefix}{_server_message(exc)}"
        if exc.status == 404:
            raise NotFound(message) from exc
        permanent = exc.status in _PERMANENT_STATUSES or (400 <= exc.status < 500 and exc.status != 429)
        raise ClusterError(message, permanent=permanent) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        # Timeouts, refused or dropped connections: the API server may be back in a moment.
        raise ClusterError(f"{prefix}cannot reach the Kubernetes API ({type(exc).__name__}: {exc})") from exc
    if not data:
        return {}
    try:
        return json.loads(data)
    except ValueError as exc:
        raise ClusterError(f"{prefix}the Kubernetes API answered with something that is not JSON") from exc


def _collection_path(api_version, kind, namespace=None):
    plural, namespaced = RESOURCES.get((api_version, kind), (kind.lower() + "s", True))
    root = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    if namespaced:
        if not namespace:
            raise ClusterError(f"{kind} needs a namespace", permanent=True)
        return f"{root}/namespaces/{namespace}/{plural}"
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


def cluster_ping():
    """The API server's version string; ClusterError when it cannot be reached."""
    version = _request("GET", "/version", what="version")
    return version.get("gitVersion") or "unknown"


def object_apply(obj):
    """Server-side apply of one object (creates it when missing); returns the object as stored."""
    return _request(
        "PATCH",
        _object_path(obj),
        query={"fieldManager": FIELD_MANAGER, "force": "true"},
        body=obj,
        content_type=APPLY_CONTENT_TYPE,
        what=f"applying {object_describe(obj)}",
    )


def namespace_ensure(name, labels=None):
    """Create the namespace if needed and make sure it carries Gantry's labels."""
    obj = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "gantry", **(labels or {})}},
    }
    return object_apply(obj)


def objects_apply(objects):
    """Apply every object in order; stops at the first error (a re-push resumes idempotently)."""
    return [object_apply(obj) for obj in objects]


def object_get(obj_ref):
    """The live object for a reference (any dict with apiVersion, kind, metadata), or None if absent."""
    try:
        return _request("GET", _object_path(obj_ref), what=f"reading {object_describe(obj_ref)}")
    except NotFound:
        return None


def objects_delete(objects, propagation="Foreground"):
    """Delete objects (in reverse order); an object already gone counts as deleted. Returns how many were there."""
    existed = 0
    options = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": propagation}
    for obj in reversed(list(objects)):
        try:
            _request(
                "DELETE",
                _object_path(obj),
                query={"propagationPolicy": propagation},
                body=options,
                what=f"deleting {object_describe(obj)}",
            )
            existed += 1
        except NotFound:
            continue
    return existed


def objects_list(api_version, kind, namespace, *, label_selector=MANAGED_SELECTOR):
    """Every object of a kind in a namespace (one call). A type the cluster does not serve raises NotFound."""
    query = {"labelSelector": label_selector} if label_selector else {}
    result = _request(
        "GET", _collection_path(api_version, kind, namespace), query=query, what=f"listing {kind} in {namespace}"
    )
    items = result.get("items") or []
    for item in items:  # list items omit these; callers compare whole objects
        item.setdefault("apiVersion", api_version)
        item.setdefault("kind", kind)
    return items


def pods_list(namespace):
    """Gantry's pods in a namespace, in one call; callers aggregate per deployment by label."""
    return objects_list("v1", "Pod", namespace)


def events_list(namespace, name):
    """Kubernetes events about objects named `name` (the deployment's objects and its pods), newest last."""
    # No field selector: pods are named "<name>-<suffix>", and field selectors only match exactly.
    result = _request("GET", _collection_path("v1", "Event", namespace), what=f"listing events in {namespace}")
    events = []
    for ev in result.get("items") or []:
        involved = (ev.get("involvedObject") or {}).get("name", "")
        if involved == name or involved.startswith(f"{name}-"):
            events.append(ev)
    return sorted(events, key=lambda ev: ev.get("lastTimestamp") or ev.get("eventTime") or "")


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


IDLE_SINCE_ANNOTATION = "gantry.io/idle-since"


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
