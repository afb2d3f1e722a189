"""The Knative autoscaler and KServe controller, simulated: pods follow a synthetic
traffic pattern between min and max scale, and scale to zero after the idle window
plus the retention period. Times are simulated seconds (the simulator scales them).
"""

import math
from datetime import datetime, timedelta, timezone

from .errors import ApiError
from .sim_knative import children_status_write, revision_ensure
from .sim_pods import PODS, duration_seconds, event_emit, pod_set_phase
from .sim_traffic import revision_pods_reconcile
from .store import now_iso

TRAFFIC_ANNOTATION = "sandbox.gantry.io/traffic"
STARTUP_ANNOTATION = "sandbox.gantry.io/startup-seconds"
PATTERNS = ("steady", "idle", "wave", "burst")
PERIOD = 600.0  # one wave or burst cycle, simulated seconds
DEFAULT_STARTUP = 15.0
DEFAULT_WINDOW = 60.0  # Knative stable window: how long idle traffic is observed before scaling down
KNATIVE_PREFIX = "autoscaling.knative.dev/"


def traffic_demand(pattern, t, max_scale):
    """How many pods the traffic asks for at simulated second `t` of the object's life."""
    if pattern == "idle":
        return 0
    if pattern == "steady":
        return max(1, math.ceil(max_scale / 2))
    if pattern == "burst":
        return max_scale if (t % PERIOD) < PERIOD / 5 else 0
    return round(max_scale * (0.5 - 0.5 * math.cos(2 * math.pi * t / PERIOD)))  # wave


def _annotation(annotations, name):
    """Knative accepts the kebab-case key and the older camelCase spelling."""
    camel = name.split("-")[0] + "".join(p.title() for p in name.split("-")[1:])
    for key in (KNATIVE_PREFIX + name, KNATIVE_PREFIX + camel):
        if key in annotations:
            return annotations[key]
    return None


def _int(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class ServingShape:
    """What the controllers read from a Knative Service or an InferenceService."""

    def __init__(self, obj, revision=None):
        meta = obj["metadata"]
        self.obj = obj
        self._revision = revision
        self.knative = obj["kind"] == "Service"
        spec = obj.get("spec") or {}
        if self.knative:
            template = spec.get("template") or {}
            t_meta = template.get("metadata") or {}
            annotations = {**(meta.get("annotations") or {}), **(t_meta.get("annotations") or {})}
            self.min_scale = _int(_annotation(annotations, "min-scale"), 0)
            self.max_scale = _int(_annotation(annotations, "max-scale"), 0)
            self.containers = (template.get("spec") or {}).get("containers") or []
            self.pod_labels = {**(meta.get("labels") or {}), **(t_meta.get("labels") or {}),
                               "serving.knative.dev/service": meta["name"],
                               "serving.knative.dev/configuration": meta["name"],
                               "serving.knative.dev/revision": self.revision}
        else:
            predictor = spec.get("predictor") or {}
            annotations = dict(meta.get("annotations") or {})
            self.min_scale = _int(predictor.get("minReplicas"), 1)
            self.max_scale = _int(predictor.get("maxReplicas"), 0)
            self.containers = predictor.get("containers") or self._model_containers(predictor)
            self.pod_labels = {**(meta.get("labels") or {}), **((predictor.get("labels")) or {}),
                               "serving.kserve.io/inferenceservice": meta["name"], "component": "predictor"}
        self.max_scale = max(self.max_scale or max(self.min_scale, 3), self.min_scale, 1)
        self.window = duration_seconds(_annotation(annotations, "window"), DEFAULT_WINDOW)
        self.retention = duration_seconds(_annotation(annotations, "scale-to-zero-pod-retention-period"), 0.0)
        self.startup = duration_seconds(annotations.get(STARTUP_ANNOTATION), DEFAULT_STARTUP)
        self.pattern = (meta.get("annotations") or {}).get(TRAFFIC_ANNOTATION, "wave")

    @property
    def revision(self):
        return self._revision or f"{self.obj['metadata']['name']}-{self.obj['metadata'].get('generation', 1):05d}"

    @staticmethod
    def _model_containers(predictor):
        model = predictor.get("model") or {}
        fmt = (model.get("modelFormat") or {}).get("name", "custom")
        return [{"name": "kserve-container", "image": f"kserve/{fmt}server:latest",
                 "args": [f"--model_uri={model.get('storageUri', '')}"], "resources": model.get("resources") or {}}]

    @property
    def url(self):
        meta = self.obj["metadata"]
        if (meta.get("labels") or {}).get("networking.knative.dev/visibility") == "cluster-local":
            return f"http://{meta['name']}.{meta['namespace']}.svc.cluster.local"
        return f"http://{meta['name']}.{meta['namespace']}.example.com"


class ServingState:
    def __init__(self, now):
        self.created = now
        self.last_busy = now  # initial scale is 1, so a new service starts as if it had traffic
        self.pod_started = {}  # pod name -> simulated creation time
        self.scale = None
        self.ever_ready = False
        self.inactive_since = None  # simulated second the autoscaler marked the revision inactive


def serving_reconcile(store, rt, obj, state, now, pattern_override=None, time_scale=1.0):
    knative = obj["kind"] == "Service"
    shape = ServingShape(obj, revision_ensure(store, obj) if knative else None)
    meta = obj["metadata"]
    pattern = pattern_override or shape.pattern
    pods = [p for p in store.objects(PODS, meta["namespace"])
            if any(o.get("uid") == meta["uid"] for o in p["metadata"].get("ownerReferences") or [])]
    demand = traffic_demand(pattern, now - state.created, shape.max_scale)
    if demand > 0:
        state.last_busy = now
    # The autoscaler's wish (the PodAutoscaler's desiredScale): zero only once a whole stable window
    # saw no request. The last pod then stays for the retention period (knative/serving v1.23
    # pkg/reconciler/autoscaling/kpa/scaler.go, handleScaleToZero).
    want = min(max(demand, shape.min_scale), shape.max_scale)
    if want == 0 and now - state.last_busy < shape.window:
        want = 1
    if want:
        state.inactive_since = None
    elif state.inactive_since is None:
        state.inactive_since = state.last_busy + shape.window
    desired = want
    if desired == 0 and now - state.inactive_since < shape.retention:
        desired = 1  # idle, but the retention period keeps one pod warm

    # Pods of a revision without traffic go; the latest revision's come from the template (sim_traffic.py).
    current = revision_pods_reconcile(store, obj, shape, pods, desired, state, now)
    ready = 0
    for pod in current:
        started = state.pod_started.setdefault(pod["metadata"]["name"], now)
        phase = pod.get("status", {}).get("phase")
        if phase == "Pending" and now - started >= shape.startup:
            pod_set_phase(store, pod, "Running")
            phase = "Running"
        ready += phase == "Running"
    state.ever_ready = state.ever_ready or ready > 0
    if state.scale is not None and state.scale != desired:
        reason = "ScaledToZero" if desired == 0 else "Scaled"
        event_emit(store, obj, reason=reason, message=f"Scaled to {desired}", component="autoscaler")
    state.scale = desired
    running, ready = ready, ready > 0 or (desired == 0 and state.ever_ready)
    traffic = None
    if knative:
        inactive_at = None
        if state.inactive_since is not None:  # as wall-clock time, like every timestamp the API serves
            inactive_for = (now - state.inactive_since) / (time_scale or 1.0)
            inactive_at = datetime.now(timezone.utc) - timedelta(seconds=inactive_for)
        traffic = children_status_write(store, obj, shape.revision, ready=ready, desired=want, actual=running,
                                        url=shape.url, inactive_at=inactive_at, ever_ready=state.ever_ready)
    _status_write(store, rt, obj, shape, ready=ready, traffic=traffic)


def _condition(previous, type_, ready, reason=""):
    status = "True" if ready else "Unknown"
    old = next((c for c in previous if c.get("type") == type_), None)
    since = old["lastTransitionTime"] if old and old.get("status") == status else now_iso()
    cond = {"type": type_, "status": status, "lastTransitionTime": since}
    if not ready:
        cond.update(reason=reason or "Deploying", message="Waiting for the first pod to become ready")
    return cond


def _status_write(store, rt, obj, shape, *, ready, traffic=None):
    previous = (obj.get("status") or {}).get("conditions") or []
    meta = obj["metadata"]
    if shape.knative:
        types = ("ConfigurationsReady", "RoutesReady", "Ready")
        # The Service reports its Route's traffic (empty until a revision is ready, as in Knative).
        status = {"observedGeneration": meta.get("generation", 1), "latestCreatedRevisionName": shape.revision,
                  "traffic": traffic or []}
        if ready:
            status["latestReadyRevisionName"] = shape.revision
    else:
        types = ("PredictorReady", "IngressReady", "Ready")
        status = {"observedGeneration": meta.get("generation", 1), "deploymentMode": "Serverless",
                  "modelStatus": {"transitionStatus": "UpToDate" if ready else "InProgress",
                                  "states": {"activeModelState": "Loaded" if ready else "Pending",
                                             "targetModelState": "Loaded"}}}
    status["conditions"] = [_condition(previous, t, ready) for t in types]
    if ready:
        status["url"] = shape.url
        status["address"] = {"url": f"http://{meta['name']}.{meta['namespace']}.svc.cluster.local"}
    try:
        store.replace(rt, meta["namespace"], meta["name"], {"status": status}, subresource="status")
    except ApiError as exc:
        if exc.code != 404:  # deleted meanwhile is fine; anything else is a simulator bug to log
            raise
