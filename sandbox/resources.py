"""The resource types the sandbox API serves, as a real cluster with the CRDs installed would.

A path for a type not listed here answers 404, like a cluster without the CRD. Names, short
names and categories of the custom resources are those of their CRDs in shared/crds (a test
checks it); those of the core types are what kube-apiserver v1.31 reports in /api/v1.
"""

from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
READ_VERBS = ("get", "list", "watch")
# Verbs of each subresource in discovery (kube-apiserver registers status as get/patch/update,
# pods/log as get only: pkg/registry/core/pod/rest/log.go implements rest.Getter alone).
SUBRESOURCE_VERBS = {"status": ("get", "patch", "update"), "log": ("get",)}


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
    # Kubernetes answers a DELETE with the deleted object for these (the registry's
    # ReturnDeletedObject), with a Status{status: Success} for the others.
    returns_deleted: bool = False
    # Review resources (SelfSubjectAccessReview ...) are answered, never stored.
    stored: bool = True

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

    @property
    def qualified_resource(self):
        """plural.group, as the API server names a resource in NotFound and Conflict messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def base_path(self, namespace=None):
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{root}/namespaces/{namespace}/{self.plural}"
        return f"{root}/{self.plural}"


def _core(plural, kind, **kwargs):
    return ResourceType("", "v1", plural, kind, **kwargs)


_KNATIVE = dict(categories=("all", "knative", "serving"), subresources=("status",), status_subresource=True)

# ReturnDeletedObject: true in kubernetes v1.31 pkg/registry/core/{pod,persistentvolumeclaim,
# serviceaccount,service,namespace}/storage/storage.go; configmaps, secrets, events and every
# custom resource (apiextensions-apiserver pkg/registry/customresource/etcd.go) leave it false.
RESOURCE_TYPES = [
    _core("namespaces", "Namespace", namespaced=False, shortnames=("ns",), subresources=("status",),
          verbs=("create", "delete", "get", "list", "patch", "update", "watch"), returns_deleted=True),
    # Nodes are cluster-scoped (kubernetes v1.31 pkg/registry/core/node/storage/storage.go, which leaves
    # ReturnDeletedObject false). The node strategy accepts status on create (the kubelet registers its node
    # with it) and keeps the stored status on updates of the main resource; the sandbox, without a flag for
    # the second half, takes status with the object on both (node status is written by the sandbox itself).
    _core("nodes", "Node", namespaced=False, shortnames=("no",), subresources=("status",)),
    _core("pods", "Pod", shortnames=("po",), categories=("all",), subresources=("log", "status"),
          status_subresource=True, returns_deleted=True),
    _core("events", "Event", shortnames=("ev",)),
    _core("persistentvolumeclaims", "PersistentVolumeClaim", shortnames=("pvc",), subresources=("status",),
          status_subresource=True, returns_deleted=True),
    _core("secrets", "Secret"),
    _core("configmaps", "ConfigMap", shortnames=("cm",)),
    _core("serviceaccounts", "ServiceAccount", shortnames=("sa",), returns_deleted=True),
    _core("services", "Service", shortnames=("svc",), categories=("all",), subresources=("status",),
          status_subresource=True, returns_deleted=True),
    ResourceType("serving.knative.dev", "v1", "services", "Service", shortnames=("kservice", "ksvc"), **_KNATIVE),
    ResourceType("serving.knative.dev", "v1", "configurations", "Configuration", shortnames=("config", "cfg"),
                 **_KNATIVE),
    ResourceType("serving.knative.dev", "v1", "revisions", "Revision", shortnames=("rev",), **_KNATIVE),
    ResourceType("serving.knative.dev", "v1", "routes", "Route", shortnames=("rt",), **_KNATIVE),
    ResourceType("serving.kserve.io", "v1beta1", "inferenceservices", "InferenceService", shortnames=("isvc",),
                 subresources=("status",), status_subresource=True),
    # The Argo CRDs declare no subresources: status is written with the object.
    ResourceType("argoproj.io", "v1alpha1", "workflows", "Workflow", shortnames=("wf",)),
    ResourceType("argoproj.io", "v1alpha1", "cronworkflows", "CronWorkflow", shortnames=("cwf", "cronwf")),
    ResourceType("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview",
                 namespaced=False, verbs=("create",), stored=False),
    ResourceType("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview",
                 namespaced=False, verbs=("create",), stored=False),
]

_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCE_TYPES}
_BY_KIND = {(r.api_version, r.kind): r for r in RESOURCE_TYPES}


def resource_type_for_path(group, version, plural):
    return _BY_PATH.get((group, version, plural))


def resource_type_for_kind(api_version, kind):
    return _BY_KIND.get((api_version, kind))


def group_versions():
    """[(group, version)] in the order of RESOURCE_TYPES, core ("", "v1") first."""
    seen = []
    for rt in RESOURCE_TYPES:
        if (rt.group, rt.version) not in seen:
            seen.append((rt.group, rt.version))
    return seen


def resource_type(name):
    """Look up by "plural", "plural.group" or "group/version/plural" (for tests and the simulator)."""
    for rt in RESOURCE_TYPES:
        if name in (rt.plural if not rt.group else None, f"{rt.plural}.{rt.group}",
                    f"{rt.api_version}/{rt.plural}"):
            return rt
    raise KeyError(f"unknown resource type {name!r}")
