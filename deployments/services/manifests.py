"""The objects a revision stands for, in its team's namespace."""

from specs.render import manifests_render


def _with_namespace(objects, namespace):
    out = []
    for obj in objects:
        meta = dict(obj.get("metadata") or {})
        if obj.get("kind") != "Namespace" and not meta.get("namespace"):
            meta["namespace"] = namespace
        out.append({**obj, "metadata": meta})
    return out


def revision_manifests(deployment, revision):
    """The objects of a revision, rendered now if the stored copy is empty."""
    manifests = revision.manifests or manifests_render(revision.spec, revision=revision.number)
    return _with_namespace(manifests, deployment.namespace)


def deployment_objects(deployment):
    """Every object any revision rendered (a target change leaves the old kind behind), de-duplicated."""
    seen, objects = set(), []
    for rev in deployment.revisions.order_by("-number"):
        for obj in revision_manifests(deployment, rev):
            meta = obj["metadata"]
            key = (obj.get("apiVersion"), obj.get("kind"), meta.get("namespace"), meta.get("name"))
            if key not in seen:
                seen.add(key)
                objects.append(obj)
    return objects
