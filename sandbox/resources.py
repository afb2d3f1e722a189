"""The resource types the sandbox API serves, as a real cluster with the CRDs installed would.

A path for a type not listed here answers 404, like a cluster without the CRD.
"""

from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
READ_VERBS = ("get", "list", "watch")


@dataclass(frozen=True)
class ResourceType:
    group: str  # "" for the core API
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    verbs: tuple = ALL_VERBS
    shortnames: tuple = ()
    categories: tuple = ()
    subresources: tuple = ()
    # CRDs with a status subresource ignore .status on writes to the main resource.
    status_subresource: bool = field(default=False)

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self):
        return self.kind.lower()

    @property
    def qualified_kind(self):
        """Kind.group, as the API server names a type in error messages."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    def base_path(self, namespace=None):
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{root}/namespaces/{namespace}/{self.plural}"
        return f"{root}/{self.plural}"


def _core(plural, kind, **kwargs):
    return ResourceType("", "v1", plural, kind, **kwargs)


RESOURCE_TYPES = [
    _core("namespaces", "Namespace", namespaced=False, shortnames=("ns",), subresources=("status",)),
    _core("pods", "Pod", shortnames=("po",), categories=("all",), subresources=("status",), status_subresource=True),
    _core("events", "Event", shortnames=("ev",)),
    _core("persistentvolumeclaims", "PersistentVolumeClaim", shortnames=("pvc",), subresources=("status",),
          status_subresource=True),
    _core("secrets", "Secret"),
    _core("configmaps", "ConfigMap", shortnames=("cm",)),
    _core("serviceaccounts", "ServiceAccount", shortnames=("sa",)),
    _core("services", "Service", shortnames=("svc",), categories=("all",), subresources=("status",),
          status_subresource=True),
    ResourceType("serving.knative.dev", "v1", "services", "Service", shortnames=("kservice", "ksvc"),
                 categories=("all", "knative", "serving"), subresources=("status",), status_subresource=True),
    ResourceType("serving.knative.dev", "v1", "revisions", "Revision", verbs=READ_VERBS + ("delete",),
                 shortnames=("rev",), categories=("all", "knative", "serving"), subresources=("status",),
                 status_subresource=True),
    ResourceType("serving.knative.dev", "v1", "routes", "Route", verbs=READ_VERBS, shortnames=("rt",),
                 categories=("all", "knative", "serving"), subresources=("status",), status_subresource=True),
    ResourceType("serving.kserve.io", "v1beta1", "inferenceservices", "InferenceService", shortnames=("isvc",),
                 subresources=("status",), status_subresource=True),
    ResourceType("argoproj.io", "v1alpha1", "workflows", "Workflow", shortnames=("wf",),
                 subresources=("status",), status_subresource=False),
]

_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCE_TYPES}
_BY_KIND = {(r.api_version, r.kind): r for r in RESOURCE_TYPES}


def resource_type_for_path(group, version, plural):
    return _BY_PATH.get((group, version, plural))


def resource_type_for_kind(api_version, kind):
    return _BY_KIND.get((api_version, kind))


def resource_type(name):
    """Look up by "plural", "plural.group" or "group/version/plural" (for tests and the simulator)."""
    for rt in RESOURCE_TYPES:
        if name in (rt.plural if not rt.group else None, f"{rt.plural}.{rt.group}",
                    f"{rt.api_version}/{rt.plural}"):
            return rt
    raise KeyError(f"unknown resource type {name!r}")
