"""Pods per revision of a Knative Service whose `spec.traffic` splits between revisions (a canary).

Knative keeps a revision scaled while a Route sends it traffic, and scales a revision without traffic to
zero (its PodAutoscaler gets no requests); each revision's pods carry `serving.knative.dev/revision`. The
simulator shares the wanted pods out by percent: every revision with a share keeps at least one pod while
the service has any, the latest revision's template makes the latest revision's pods and each pinned
revision's pods come from that Revision's own spec.
"""

from .errors import ApiError
from .sim_knative import REVISIONS
from .sim_pods import pod_create, pod_delete

REVISION_LABEL = "serving.knative.dev/revision"


def revision_shares(obj, latest):
    """{revision name: percent > 0} from a Knative Service's spec.traffic; the default is all to the latest."""
    entries = (obj.get("spec") or {}).get("traffic") or [{"latestRevision": True, "percent": 100}]
    shares = {}
    for entry in entries:
        name = entry.get("revisionName") or (latest if entry.get("latestRevision", True) else None)
        percent = entry.get("percent", 100 if len(entries) == 1 else 0) or 0
        if name and percent > 0:
            shares[name] = shares.get(name, 0) + percent
    return shares or {latest: 100}


def _counts(shares, desired):
    if desired <= 0:
        return {name: 0 for name in shares}
    return {name: max(1, round(desired * percent / 100)) for name, percent in shares.items()}


def revision_pods_reconcile(store, obj, shape, pods, desired, state, now):
    """Delete and create pods so each revision with traffic has its share; returns the pods kept."""
    meta = obj["metadata"]
    shares = revision_shares(obj, shape.revision) if shape.knative else {shape.revision: 100}
    counts = _counts(shares, desired)
    kept = []
    for pod in pods:
        if pod["metadata"]["labels"].get(REVISION_LABEL, shape.revision) not in counts:
            pod_delete(store, pod)
            state.pod_started.pop(pod["metadata"]["name"], None)
    for name, count in counts.items():
        mine = sorted((p for p in pods if p["metadata"]["labels"].get(REVISION_LABEL, shape.revision) == name),
                      key=lambda p: p["metadata"]["creationTimestamp"])
        for pod in mine[count:]:
            pod_delete(store, pod)
            state.pod_started.pop(pod["metadata"]["name"], None)
        mine = mine[:count]
        labels, containers = shape.pod_labels, shape.containers
        if name != shape.revision:
            try:
                revision = store.get(REVISIONS, meta["namespace"], name)
            except ApiError:
                continue  # traffic to a revision that does not exist: Knative's Route reports it, no pods
            labels = {**labels, REVISION_LABEL: name}
            containers = (revision.get("spec") or {}).get("containers") or containers
        for _ in range(count - len(mine)):
            prefix = f"{name}-deployment" if shape.knative else f"{meta['name']}-predictor"
            pod = pod_create(store, obj, name_prefix=prefix, labels=labels, containers=containers)
            state.pod_started[pod["metadata"]["name"]] = now
            mine.append(pod)
        kept.extend(mine)
    return kept
