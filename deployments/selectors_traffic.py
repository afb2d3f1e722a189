"""The traffic split of an online deployment: what Gantry asked for (rollout state) and, on request, what
the cluster resolved and how many pods of each revision are ready."""

import clusters
from clusters.selectors import cluster_for_region
from clusters.traffic import serving_traffic_read
from specs.traffic import revision_name
from specs.vocabulary import Status, Target, Workload

from .services.rollouts import rollout_in_progress

CANARY, ROLLED_BACK, NONE = "canary", "rolled_back", "none"


def _knative_name(deployment, number):
    """The Knative Revision name of a Gantry revision when Gantry named it (after the first rollout)."""
    if deployment.target != Target.KNATIVE or number is None:
        return ""
    if number == deployment.rollout_stable and deployment.rollout_stable_name:
        return deployment.rollout_stable_name
    return revision_name(deployment.name, number) if deployment.rollout_stable is not None else ""


def deployment_traffic(deployment, *, live=False):
    """{"state", "canary_percent", "stable", "candidate", "rows", "live_error"} or None for batch deployments.

    rows: one per revision with a share, [{"revision", "name", "role", "percent", "observed", "ready", "total"}];
    `observed` (the Route's resolved percent) and the pod counts are None unless `live` reads the cluster.
    """
    if deployment.workload != Workload.ONLINE or deployment.current_revision_id is None:
        return None
    current = deployment.current_revision.number
    if rollout_in_progress(deployment):
        state = CANARY if deployment.canary_percent else ROLLED_BACK
        percent = deployment.canary_percent
        rows = [
            {"revision": deployment.rollout_stable, "name": deployment.rollout_stable_name, "role": "stable",
             "percent": 100 - percent},
            {"revision": current, "name": _knative_name(deployment, current), "role": "canary", "percent": percent},
        ]
    else:
        state, percent = NONE, None
        serving = deployment.applied_revision or current
        rows = [{"revision": serving, "name": _knative_name(deployment, serving), "role": "all", "percent": 100}]
    for row in rows:
        row.update(observed=None, ready=None, total=None)
    result = {"state": state, "canary_percent": percent, "stable": deployment.rollout_stable if percent is not None
              else None, "candidate": current if percent is not None else None, "rows": rows, "live_error": "",
              "can_start": state == NONE and deployment.applied_revision not in (None, current)}
    if live and deployment.status not in (Status.DELETED, Status.DRAFT):
        _live_merge(deployment, result)
    return result


def _live_merge(deployment, result):
    api_version, kind = clusters.TARGET_KINDS[deployment.target]
    ref = {"apiVersion": api_version, "kind": kind,
           "metadata": {"name": deployment.name, "namespace": deployment.namespace}}
    try:
        seen = serving_traffic_read(ref, deployment_name=deployment.name, cluster=cluster_for_region(deployment.region))
    except clusters.ClusterError as exc:
        result["live_error"] = f"The cluster cannot be read right now: {exc.message}"
        return
    rows = result["rows"]
    if len(rows) == 1 and not rows[0]["name"]:
        rows[0]["name"] = seen.latest_ready  # Knative's own name for a revision pushed before any rollout
    observed = {}
    for target in seen.traffic:
        observed[target["revision"]] = observed.get(target["revision"], 0) + target["percent"]
    names = {row["name"] for row in rows}
    for name in sorted(set(observed) | set(seen.pods)):
        if name and name not in names:  # a revision the cluster still routes to or runs pods for
            rows.append({"revision": None, "name": name, "role": "other", "percent": 0, "observed": None,
                         "ready": None, "total": None})
    for row in rows:
        row["observed"] = observed.get(row["name"], 0) if seen.traffic else None
        pods = seen.pods.get(row["name"]) or (seen.pods.get("") if len(rows) == 1 else None) or {}
        row["ready"], row["total"] = pods.get("ready", 0), pods.get("total", 0)
