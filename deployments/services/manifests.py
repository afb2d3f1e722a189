"""The objects a revision stands for, in its team's namespace."""

from specs.render import manifests_render
from specs.render_batch import workflow_for_run
from specs.traffic import Rollout, rollout_apply


def _with_namespace(objects, namespace):
    out = []
    for obj in objects:
        meta = dict(obj.get("metadata") or {})
        if obj.get("kind") != "Namespace" and not meta.get("namespace"):
            meta["namespace"] = namespace
        out.append({**obj, "metadata": meta})
    return out


def revision_manifests(deployment, revision, *, run=None):
    """The objects of a revision, rendered now if the stored copy is empty; `run`: that batch run's Workflow."""
    manifests = revision.manifests or manifests_render(revision.spec, revision=revision.number)
    if run is not None:
        manifests = [workflow_for_run(o, run) if o.get("kind") == "Workflow" else o for o in manifests]
    rollout = revision_rollout(deployment, revision)
    if rollout is not None:
        manifests = [rollout_apply(o, rollout, revision=revision.number) for o in manifests]
    return [object_ordered(o) for o in _with_namespace(manifests, deployment.namespace)]


# How kubectl and the Kubernetes docs write an object; PostgreSQL's jsonb keeps keys in its own order
# (shorter keys first), so a stored object is put back in this order before anyone reads it.
TOP_KEYS = ("apiVersion", "kind", "metadata", "spec", "status")
METADATA_KEYS = ("name", "generateName", "namespace", "labels", "annotations")


def object_ordered(obj, keys=TOP_KEYS):
    """A copy of a Kubernetes object with its keys in reading order: `keys` first (`name` in a nested object:
    a container, a volume, an env entry), then the rest alphabetically, like `kubectl get -o yaml`."""
    if isinstance(obj, list):
        return [object_ordered(item, ()) for item in obj]
    if not isinstance(obj, dict):
        return obj
    first = [k for k in (keys or ("name",)) if k in obj]
    rest = sorted(k for k in obj if k not in first)
    return {k: object_ordered(obj[k], METADATA_KEYS if k == "metadata" else ()) for k in first + rest}


def revision_rollout(deployment, revision):
    """The traffic a revision is pushed with (specs/traffic.py): None before the deployment's first canary.

    Applied on top of the stored objects, so a rollout step changes the traffic, never the revision.
    """
    if deployment.rollout_stable is None:
        return None
    if revision.number == deployment.rollout_candidate and deployment.canary_percent < 100:
        return Rollout(stable_name=deployment.rollout_stable_name, canary_percent=deployment.canary_percent)
    return Rollout()


def deployment_objects(deployment):
    """Every object any revision rendered (a target change leaves the old kind behind), de-duplicated."""
    seen, objects = set(), []
    runs = {}  # revision number -> its runs' numbers: each run left its own Workflow
    for number, revision in deployment.runs.values_list("number", "revision"):
        runs.setdefault(revision, []).append(number)
    for rev in deployment.revisions.order_by("-number"):
        rendered = revision_manifests(deployment, rev)  # the plain name: runs before they were numbered
        for number in runs.get(rev.number, ()):
            rendered += revision_manifests(deployment, rev, run=number)
        for obj in rendered:
            meta = obj["metadata"]
            key = (obj.get("apiVersion"), obj.get("kind"), meta.get("namespace"), meta.get("name"))
            if key not in seen:
                seen.add(key)
                objects.append(obj)
    return objects
