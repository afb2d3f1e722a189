"""Canary rollouts in the rendered objects: the traffic split between a stable and a new revision. Pure.

Knative Serving v1 (Service `spec.traffic`, knative.dev/docs/serving/traffic-management, serving v1.x):
each target names a fixed revision (`revisionName`) or follows the latest ready revision of the
Configuration (`latestRevision: true`), takes a `percent` (all targets add up to 100) and may carry a
`tag`, which gives that revision its own URL (`<tag>-<service>.<namespace>.<domain>`).

KServe v1beta1 (docs "Canary Rollout Strategy", v0.16): `canaryTrafficPercent` on the predictor sends
that share to the newest ready revision and the rest to the last revision rolled out at 100 %, which
KServe tracks itself; `0` pins all traffic to that previous revision (a roll back), removing the field
promotes. Canary rollouts need KServe's Serverless (Knative) mode, the one Gantry renders.
"""

from dataclasses import dataclass

STABLE_TAG = "stable"
CANARY_TAG = "canary"


@dataclass(frozen=True)
class Rollout:
    """The rollout state a revision is rendered with.

    `canary_percent`: the rendered revision's share while a canary is out (1-99), 0 once rolled back, None
    when it takes all traffic (promoted, or a plain change after a rollout). `stable_name` is the Knative
    Revision the rest of the traffic stays on (unused for KServe, which knows its previous revision).
    """

    stable_name: str = ""
    canary_percent: int | None = None

    @property
    def split(self):
        return self.canary_percent is not None


def revision_name(service, revision):
    """The Knative Revision name Gantry gives revision `revision` of a Service once it has had a rollout.

    Knative accepts a template name only if it starts with the Service's name and a dash (knative/serving
    pkg/apis/serving/metadata_validation.go, ValidateRevisionName) and refuses a template change that keeps
    the old name, so one name per Gantry revision is exactly right. Gantry names are at most 40 characters:
    the result stays a DNS label.
    """
    return f"{service}-r{revision}"


def knative_traffic(rollout):
    """`spec.traffic` of the Knative Service.

    The new revision is addressed as `latestRevision`, not by name: Knative resolves it to the latest
    *ready* revision, so while the canary starts (or if it never becomes ready) its share stays on the
    stable revision instead of failing the Route.
    """
    if not rollout.split:
        return [{"latestRevision": True, "percent": 100}]
    canary = rollout.canary_percent
    return [
        {"revisionName": rollout.stable_name, "percent": 100 - canary, "tag": STABLE_TAG},
        {"latestRevision": True, "percent": canary, "tag": CANARY_TAG},
    ]


def rollout_apply(obj, rollout, *, revision=None):
    """The object with the rollout applied: a Knative Service or an InferenceService; anything else as it is.

    No rollout (None) leaves every object exactly as rendered before rollouts existed. With one, the
    Knative template is named after the Gantry revision (so its Revision can be pinned later without asking
    the cluster) and the traffic block is set; the InferenceService gets `canaryTrafficPercent`.
    """
    if rollout is None:
        return obj
    if obj.get("apiVersion") == "serving.knative.dev/v1" and obj.get("kind") == "Service":
        spec = dict(obj["spec"])
        if revision is not None:
            template = dict(spec["template"])
            template["metadata"] = {"name": revision_name(obj["metadata"]["name"], revision),
                                    **template.get("metadata", {})}
            spec["template"] = template
        spec["traffic"] = knative_traffic(rollout)
        return {**obj, "spec": spec}
    if obj.get("kind") == "InferenceService" and rollout.split:
        spec = dict(obj["spec"])
        spec["predictor"] = {**spec["predictor"], "canaryTrafficPercent": rollout.canary_percent}
        return {**obj, "spec": spec}
    return obj
