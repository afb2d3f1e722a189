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
    return _with_namespace(manifests, deployment.namespace)


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
