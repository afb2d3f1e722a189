"""Model volumes (PersistentVolumeClaims): Gantry never deletes, shrinks or takes over a claim it did not create.

A claim Gantry creates carries its labels, with the deployment that created it. A claim that
already exists is used as it is unless that same deployment created it; then it may grow but
never shrink (a real API server refuses a shrink with 422, and a smaller request would not free
anything anyway).
"""

from kubernetes.utils import parse_quantity

from .labels import DEPLOYMENT_LABEL, MANAGED_BY, MANAGED_BY_LABEL
from .objects import object_get

CLAIM = ("v1", "PersistentVolumeClaim")


def is_claim(obj):
    return (obj.get("apiVersion"), obj.get("kind")) == CLAIM


def _labels(obj):
    return ((obj or {}).get("metadata") or {}).get("labels") or {}


def created_by_gantry(live):
    return _labels(live).get(MANAGED_BY_LABEL) == MANAGED_BY


def created_by(live, deployment_name):
    return created_by_gantry(live) and _labels(live).get(DEPLOYMENT_LABEL) == deployment_name


def _request(obj):
    return ((((obj.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")) or "0"


def claim_to_apply(desired, *, deployment_name, cluster=None):
    """The claim to apply for a push, or None when the claim exists and is not this deployment's to change."""
    live = object_get(desired, cluster=cluster)
    if live is None:
        return desired
    if not created_by(live, deployment_name):
        return None  # someone else's (another deployment's, or made by hand): used as it is
    if parse_quantity(_request(live)) > parse_quantity(_request(desired)):
        spec = {**desired["spec"], "resources": {**desired["spec"]["resources"], "requests": {
            **desired["spec"]["resources"]["requests"], "storage": _request(live)}}}
        return {**desired, "spec": spec}
    return desired
