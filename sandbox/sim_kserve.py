"""The KServe controller in Serverless mode, simulated: an InferenceService's predictor runs as
the Knative Service "<isvc>-predictor" it owns (kserve v0.11+ pkg/constants PredictorServiceName;
pkg/controller/v1beta1/inferenceservice/reconcilers/knative), with minReplicas/maxReplicas turned
into autoscaling.knative.dev/min-scale and max-scale (KServe's default minReplicas is 1). The
InferenceService's status then follows the Knative Service's.
"""

import copy

from .errors import ApiError
from .resources import resource_type
from .sim_pods import owner_reference
from .sim_serving import STARTUP_ANNOTATION, TRAFFIC_ANNOTATION, ServingShape
from .store import now_iso

KSVC = resource_type("services.serving.knative.dev")
ISVC_LABEL = "serving.kserve.io/inferenceservice"


def predictor_name(isvc_name):
    return f"{isvc_name}-predictor"


def predictor_ensure(store, isvc):
    """Create or update the predictor's Knative Service from the InferenceService's spec."""
    meta = isvc["metadata"]
    predictor = (isvc.get("spec") or {}).get("predictor") or {}
    shape = ServingShape(isvc)
    labels = {**(meta.get("labels") or {}), ISVC_LABEL: meta["name"], "component": "predictor"}
    scaling = {"autoscaling.knative.dev/class": "kpa.autoscaling.knative.dev",
               "autoscaling.knative.dev/min-scale": str(predictor.get("minReplicas", 1))}
    if predictor.get("maxReplicas"):
        scaling["autoscaling.knative.dev/max-scale"] = str(predictor["maxReplicas"])
    sandbox_knobs = {k: v for k, v in (meta.get("annotations") or {}).items()
                     if k in (TRAFFIC_ANNOTATION, STARTUP_ANNOTATION)}
    ksvc = {"apiVersion": KSVC.api_version, "kind": KSVC.kind,
            "metadata": {"name": predictor_name(meta["name"]), "namespace": meta["namespace"], "labels": labels,
                         "annotations": sandbox_knobs, "ownerReferences": [owner_reference(isvc)]},
            "spec": {"template": {"metadata": {"labels": labels,
                                               "annotations": {**(meta.get("annotations") or {}), **scaling}},
                                  "spec": {"containers": copy.deepcopy(shape.containers)}}}}
    for index, container in enumerate(ksvc["spec"]["template"]["spec"]["containers"]):
        container.setdefault("name", "kserve-container" if index == 0 else f"container-{index}")
    try:
        current = store.get(KSVC, meta["namespace"], ksvc["metadata"]["name"])
    except ApiError:
        return store.create(KSVC, meta["namespace"], ksvc)
    if current.get("spec") == ksvc["spec"] and current["metadata"].get("labels") == labels:
        return current
    return store.patch(KSVC, meta["namespace"], ksvc["metadata"]["name"],
                       {"metadata": {"labels": labels, "annotations": sandbox_knobs}, "spec": ksvc["spec"]},
                       patch_type="merge")


def isvc_status_write(store, rt, isvc):
    """The InferenceService's status from its predictor's Knative Service."""
    meta = isvc["metadata"]
    try:
        ksvc = store.get(KSVC, meta["namespace"], predictor_name(meta["name"]))
    except ApiError:
        return
    k_status = ksvc.get("status") or {}
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in k_status.get("conditions") or [])
    previous = {c.get("type"): c for c in (isvc.get("status") or {}).get("conditions") or []}
    conditions = []
    for type_ in ("IngressReady", "PredictorReady", "Ready"):
        status = "True" if ready else "Unknown"
        old = previous.get(type_)
        same = old and old.get("status") == status and old.get("lastTransitionTime")
        cond = {"type": type_, "status": status, "lastTransitionTime": old["lastTransitionTime"] if same else now_iso()}
        if not ready:
            cond.update(reason="PredictorNotReady", message="Waiting for the predictor's Knative Service")
        conditions.append(cond)
    status = {"observedGeneration": meta.get("generation", 1), "deploymentMode": "Serverless",
              "conditions": conditions,
              "modelStatus": {"transitionStatus": "UpToDate" if ready else "InProgress",
                              "states": {"activeModelState": "Loaded" if ready else "Pending",
                                         "targetModelState": "Loaded"}},
              "components": {"predictor": {k: v for k, v in {
                  "latestCreatedRevision": k_status.get("latestCreatedRevisionName"),
                  "latestReadyRevision": k_status.get("latestReadyRevisionName"),
                  "latestRolledoutRevision": k_status.get("latestReadyRevisionName"),
                  "traffic": k_status.get("traffic"), "url": k_status.get("url")}.items() if v}}}
    if ready:
        status["url"] = f"http://{meta['name']}.{meta['namespace']}.example.com"
        status["address"] = {"url": f"http://{meta['name']}.{meta['namespace']}.svc.cluster.local"}
    try:
        store.replace(rt, meta["namespace"], meta["name"], {"status": status}, subresource="status")
    except ApiError as exc:
        if exc.code != 404:
            raise
