"""The Kubernetes schema for what Gantry renders: core objects (PVC, ServiceAccount) and the pods behind CRs.

The CRDs in ../shared/crds check the custom resources; nothing checks the core objects Gantry renders
beside them, and a controller creates the pods from the templates. kubernetes-validate carries the
upstream OpenAPI schema per Kubernetes release; strict mode refuses fields the schema does not have.
"""

import kubernetes_validate

KUBERNETES_VERSION = "1.32.0"  # the kubectl on the project's machines (v1.32.4)
# The fields of a KServe predictor that are a core PodSpec's (the rest are KServe's own: scaling, batcher …).
POD_SPEC_KEYS = ("affinity", "containers", "imagePullSecrets", "nodeSelector", "serviceAccountName",
                 "tolerations", "volumes")
# A Knative RevisionSpec is a PodSpec plus these (knative.dev/serving pkg/apis/serving/v1 RevisionSpec).
KNATIVE_ONLY = ("containerConcurrency", "timeoutSeconds", "responseStartTimeoutSeconds", "idleTimeoutSeconds")


def _pod(spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "check"}, "spec": spec}


def pods_of(obj):
    """The pods a controller would create for one rendered object (or the object itself when it is core)."""
    kind = obj["kind"]
    if obj["apiVersion"] == "v1":
        return [obj]
    if kind == "Service":
        template = obj["spec"]["template"]["spec"]
        return [_pod({k: v for k, v in template.items() if k not in KNATIVE_ONLY})]
    if kind == "InferenceService":
        predictor = obj["spec"]["predictor"]
        return [_pod({k: v for k, v in predictor.items() if k in POD_SPEC_KEYS})]
    if kind == "Workflow":
        spec = obj["spec"]
        shared = {k: spec[k] for k in ("affinity", "volumes") if k in spec}
        return [_pod({**shared, "containers": [t["container"]]}) for t in spec["templates"] if "container" in t]
    raise AssertionError(f"no pod rule for {kind}")


def pod_schema_problems(obj):
    """Readable problems of the pods behind `obj` against the Kubernetes schema; empty when all are valid."""
    problems = []
    for pod in pods_of(obj):
        try:
            kubernetes_validate.validate(pod, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(p) for p in error.path)
            problems.append(f"{obj['kind']} {path}: {error.message}")
    return problems
