"""Active, kept warm or at zero: what Knative's own Revisions say about a Service's scale (pure; no API call).

Knative Serving (v1.23, pkg/apis/serving/v1/revision_lifecycle.go, PropagateAutoscalerStatus) copies
its PodAutoscaler's status onto each Revision: `status.actualReplicas` (the PA's actualScale, the
ready pods), `status.desiredReplicas` (the PA's desiredScale) and the `Active` condition (the PA's
Active condition), which is not part of the Revision's Ready set because a Ready revision may be
scaled to zero. The KPA (pkg/reconciler/autoscaling/kpa/kpa.go, computeActiveCondition) marks it
False with reason "NoTraffic" once the autoscaler wants zero pods, that is after a stable window
without requests; its `lastTransitionTime` is when the revision went inactive. The scaler
(kpa/scaler.go, handleScaleToZero) then keeps the last pod until the PA has been inactive for the
scale-to-zero-pod-retention-period. So during the retention: Active=False, desiredReplicas 0,
actualReplicas > 0; at zero: Active=False and no replicas; activating: Active=Unknown ("Queued").

Which revisions count: those the object routes traffic to. A Knative Service lists them in
`status.traffic[].revisionName` (serving.knative.dev/v1 RouteStatusFields) with `latestReadyRevisionName`
as a fallback; a KServe InferenceService in `status.components.predictor.traffic` and
`latestReadyRevision` (kserve v0.11+ ComponentStatusSpec), its predictor's Revisions being
`<isvc>-predictor-00001`, ...
"""

from .objects import KNATIVE, KSERVE


def _dict(value):
    return value if isinstance(value, dict) else {}


def _count(value):
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _routed(obj):
    """Names of the revisions an object sends traffic to (percent > 0), else its latest ready one."""
    status = _dict(obj.get("status"))
    api_kind = (obj.get("apiVersion"), obj.get("kind"))
    if api_kind == KNATIVE:
        traffic, latest = status.get("traffic"), status.get("latestReadyRevisionName")
    elif api_kind == KSERVE:
        predictor = _dict(_dict(status.get("components")).get("predictor"))
        traffic, latest = predictor.get("traffic"), predictor.get("latestReadyRevision")
    else:
        return []
    names = []
    for entry in traffic if isinstance(traffic, list) else []:
        entry = _dict(entry)
        name, percent = entry.get("revisionName"), entry.get("percent")
        if isinstance(name, str) and isinstance(percent, int) and percent > 0 and name not in names:
            names.append(name)
    if not names and isinstance(latest, str) and latest:
        names.append(latest)
    return names


def revision_scale_read(revision):
    """{"active": True/False/None, "reason", "since", "actual", "desired"} of one Revision's status."""
    status = _dict(revision.get("status"))
    conditions = status.get("conditions")
    active = next((c for c in conditions if isinstance(c, dict) and c.get("type") == "Active"), None) \
        if isinstance(conditions, list) else None
    active = _dict(active)
    since = active.get("lastTransitionTime")
    reason = active.get("reason")
    return {
        "active": {"True": True, "False": False}.get(active.get("status")),
        "reason": reason[:80] if isinstance(reason, str) else "",
        "since": since[:40] if isinstance(since, str) else None,
        "actual": _count(status.get("actualReplicas")),
        "desired": _count(status.get("desiredReplicas")),
    }


def scale_read(obj, revisions):
    """What the routed revisions say together; None when none of them is known (e.g. not listed yet).

    `revisions`: {name: Revision object} of the namespace. Active when any routed revision is active;
    inactive when all are, with `since` the latest of their transitions (the last pod to go is kept
    the longest) and `actual`/`desired` summed; None (activating, deploying) otherwise.
    """
    seen = [revision_scale_read(revisions[name]) for name in _routed(obj) if name in revisions]
    if not seen:
        return None
    actual = [s["actual"] for s in seen]
    desired = [s["desired"] for s in seen]
    out = {"revisions": len(seen), "actual": None if None in actual else sum(actual),
           "desired": None if None in desired else sum(desired), "reason": "", "since": None}
    if any(s["active"] is True for s in seen):
        out["active"] = True
    elif all(s["active"] is False for s in seen):
        times = [s["since"] for s in seen if s["since"]]
        out.update(active=False, reason=seen[0]["reason"], since=max(times) if times else None)
    else:
        out["active"] = None
    return out
