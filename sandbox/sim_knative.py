"""What Knative Serving's controllers make of a Service: a Configuration and a Route named after
it, and one immutable Revision per Configuration generation (knative/serving v1.x
pkg/reconciler/service/resources and configuration/resources: the Revision is named
kmeta.ChildName(configuration, fmt.Sprintf("-%05d", generation)) unless the template names it).
"""

import copy
import hashlib
from datetime import datetime, timedelta, timezone

from .errors import ApiError
from .resources import resource_type
from .sim_pods import owner_reference
from .store import now_iso

CONFIGURATIONS = resource_type("serving.knative.dev/v1/configurations")
REVISIONS = resource_type("serving.knative.dev/v1/revisions")
ROUTES = resource_type("serving.knative.dev/v1/routes")
_LONGEST = 63  # a DNS label


def child_name(parent, suffix):
    """knative.dev/pkg kmeta.ChildName: parent+suffix, the parent hashed when it would exceed 63."""
    if len(parent) + len(suffix) <= _LONGEST:
        return parent + suffix
    digest = hashlib.md5(parent.encode()).hexdigest()
    head = _LONGEST - len(suffix) - len(digest)
    return (parent[:head] + digest if head > 0 else digest[:_LONGEST - len(suffix)]) + suffix


def _upsert(store, rt, obj):
    meta = obj["metadata"]
    try:
        current = store.get(rt, meta["namespace"], meta["name"])
    except ApiError:
        return store.create(rt, meta["namespace"], obj)
    if current.get("spec") == obj.get("spec") and current["metadata"].get("labels") == meta.get("labels"):
        return current
    return store.patch(rt, meta["namespace"], meta["name"], {"metadata": {"labels": meta.get("labels")},
                                                             "spec": obj.get("spec")}, patch_type="merge")


def _status(store, rt, obj, status):
    try:
        store.replace(rt, obj["metadata"]["namespace"], obj["metadata"]["name"], {"status": status},
                      subresource="status")
    except ApiError as exc:
        if exc.code != 404:
            raise


def revision_ensure(store, service):
    """Create or update the Service's Configuration and its newest Revision; returns the Revision name."""
    meta = service["metadata"]
    template = copy.deepcopy((service.get("spec") or {}).get("template") or {})
    labels = {**(meta.get("labels") or {}), "serving.knative.dev/service": meta["name"],
              "serving.knative.dev/serviceUID": meta["uid"]}
    config = _upsert(store, CONFIGURATIONS, {
        "metadata": {"name": meta["name"], "namespace": meta["namespace"], "labels": labels,
                     "ownerReferences": [owner_reference(service)]},
        "spec": {"template": template}})
    generation = config["metadata"]["generation"]
    t_meta = template.get("metadata") or {}
    name = t_meta.get("name") or child_name(meta["name"], f"-{generation:05d}")
    try:
        store.get(REVISIONS, meta["namespace"], name)
    except ApiError:
        revision_labels = {**(t_meta.get("labels") or {}), **labels,
                           "serving.knative.dev/configuration": meta["name"],
                           "serving.knative.dev/configurationGeneration": str(generation),
                           "serving.knative.dev/configurationUID": config["metadata"]["uid"],
                           "serving.knative.dev/routingState": "active"}
        store.create(REVISIONS, meta["namespace"], {
            "metadata": {"name": name, "namespace": meta["namespace"], "labels": revision_labels,
                         "annotations": {**(t_meta.get("annotations") or {}), "serving.knative.dev/routes": meta["name"]},
                         "ownerReferences": [owner_reference(config)]},
            "spec": template.get("spec") or {}})
    return name


def _conditions(types_, ready, reason):
    conditions = []
    for type_ in types_:
        cond = {"type": type_, "status": "True" if ready else "Unknown"}
        if not ready:
            cond.update(reason=reason, message="Waiting for the revision's pods to become ready")
        conditions.append(cond)
    return conditions


def _active_condition(rev, *, inactive_at, actual, ever_ready):
    """The Revision's Active condition, as Knative copies it from the PodAutoscaler (knative/serving v1.23
    pkg/apis/serving/v1/revision_lifecycle.go PropagateAutoscalerStatus; kpa.go computeActiveCondition):
    False "NoTraffic" once the autoscaler wants no pod, True with ready pods, Unknown while activating.

    `inactive_at` is the simulated instant the revision went inactive, given as wall-clock time: it moves
    only when tests jump the simulated clock. Otherwise lastTransitionTime changes only with the status.
    """
    old = next((c for c in (rev.get("status") or {}).get("conditions") or [] if c.get("type") == "Active"), None)
    if inactive_at is not None:
        cond = {"type": "Active", "status": "False", "reason": "NoTraffic",
                "message": "The target is not receiving traffic.",
                "lastTransitionTime": inactive_at.isoformat(timespec="seconds").replace("+00:00", "Z")}
        if old and old.get("status") == "False" and abs(_parsed(old.get("lastTransitionTime")) - inactive_at) \
                < timedelta(seconds=1.5):
            cond["lastTransitionTime"] = old["lastTransitionTime"]  # the same instant, give or take rounding
        return cond
    if actual:
        cond = {"type": "Active", "status": "True", "lastTransitionTime": now_iso()}
    else:
        cond = {"type": "Active", "status": "Unknown", "reason": "Queued" if ever_ready else "Deploying",
                "message": "Requests to the target are being buffered as resources are provisioned.",
                "lastTransitionTime": now_iso()}
    if old and old.get("status") == cond["status"] and old.get("lastTransitionTime"):
        cond["lastTransitionTime"] = old["lastTransitionTime"]
    return cond


def _parsed(text):
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return datetime.min.replace(tzinfo=timezone.utc)


def _unrouted_since(rev):
    """An older revision lost its traffic and went to zero: inactive since then (kept from its last status)."""
    old = next((c for c in (rev.get("status") or {}).get("conditions") or [] if c.get("type") == "Active"), None)
    if old and old.get("status") == "False" and old.get("lastTransitionTime"):
        return _parsed(old["lastTransitionTime"])
    return datetime.now(timezone.utc)


def children_status_write(store, service, revision, *, ready, desired, actual, url, inactive_at=None,
                          ever_ready=True):
    """Status of the Revisions, the Configuration and the Route; returns the Route's status traffic.

    `desired` is the autoscaler's wish (0 while the retention period keeps the last pod), `actual` the
    ready pods, `inactive_at` (datetime or None) when the autoscaler marked the latest revision inactive.
    """
    meta = service["metadata"]
    namespace = meta["namespace"]
    for rev in store.objects(REVISIONS, namespace, [("serving.knative.dev/configuration", "in", {meta["name"]})]):
        latest = rev["metadata"]["name"] == revision
        was_ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                        for c in (rev.get("status") or {}).get("conditions") or [])
        conditions = _conditions(("ContainerHealthy", "ResourcesAvailable", "Ready"), ready or was_ready, "Deploying")
        conditions.append(_active_condition(rev, inactive_at=inactive_at if latest else _unrouted_since(rev),
                                            actual=actual if latest else 0, ever_ready=ever_ready))
        _status(store, REVISIONS, rev, {"observedGeneration": 1, "conditions": conditions,
                                        "actualReplicas": actual if latest else 0,
                                        "desiredReplicas": desired if latest else 0})
    config = store.get(CONFIGURATIONS, namespace, meta["name"])
    config_status = {"observedGeneration": config["metadata"]["generation"], "latestCreatedRevisionName": revision,
                     "conditions": _conditions(("Ready",), ready, "RevisionMissing")}
    if ready:
        config_status["latestReadyRevisionName"] = revision
    _status(store, CONFIGURATIONS, config, config_status)

    spec_traffic = (service.get("spec") or {}).get("traffic") or [{"latestRevision": True, "percent": 100}]
    route_spec = [{**({"configurationName": meta["name"]} if t.get("latestRevision", True) else {}), **t}
                  for t in spec_traffic]
    route = _upsert(store, ROUTES, {
        "metadata": {"name": meta["name"], "namespace": namespace,
                     "labels": {**(meta.get("labels") or {}), "serving.knative.dev/service": meta["name"]},
                     "ownerReferences": [owner_reference(service)]},
        "spec": {"traffic": route_spec}})
    traffic = []
    if ready:
        for entry in spec_traffic:
            resolved = {"revisionName": entry.get("revisionName") or revision,
                        "latestRevision": entry.get("latestRevision", not entry.get("revisionName")),
                        "percent": entry.get("percent", 100)}
            if entry.get("tag"):
                resolved["tag"] = entry["tag"]
                resolved["url"] = url.replace("://", f"://{entry['tag']}-", 1)
            traffic.append(resolved)
    route_status = {"observedGeneration": route["metadata"]["generation"], "traffic": traffic,
                    "conditions": _conditions(("AllTrafficAssigned", "IngressReady", "Ready"), ready, "RevisionMissing")}
    if ready:
        route_status.update(url=url, address={"url": f"http://{meta['name']}.{namespace}.svc.cluster.local"})
    _status(store, ROUTES, route, route_status)
    return traffic
