"""The parts every rendered object shares: Gantry's labels and metadata, node affinity, the model container
and its volume. Pure, like the renderers that use them (render.py, render_batch.py).
"""

from clusters.labels import (
    DEPLOYMENT_LABEL,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    REVISION_ANNOTATION,
    TEAM_LABEL,
    namespace_for,
)

from .cpu import CPU_NODE_FAMILIES, CPU_NODE_LABEL, on_cpu
from .formats import split_uri
from .runtimes import CUSTOM, MODEL_MOUNT, container_fields, endpoint_env, model_location, probes, runtime_kind

# The model container's name per target: KServe's predictor container is `kserve-container` (the name
# KServe itself gives it), an Argo shard's is `main` (Argo's name for a template's container).
MODEL_CONTAINERS = {"knative": "model", "kserve": "kserve-container", "argo": "main"}


def gantry_labels(spec):
    return {
        MANAGED_BY_LABEL: MANAGED_BY,
        DEPLOYMENT_LABEL: spec["name"],
        TEAM_LABEL: spec["team"],
    }


def object_metadata(spec, name, revision, labels=None):
    meta = {"name": name, "namespace": namespace_for(spec["team"]), "labels": {**gantry_labels(spec), **(labels or {})}}
    if revision is not None:
        meta["annotations"] = {REVISION_ANNOTATION: str(revision)}
    return meta


def model_claim(spec):
    scheme, claim, path = split_uri(spec["model"]["uri"])
    return (claim, path) if scheme == "pvc" else (None, None)


def node_affinity(spec):
    """The GPU class (or, on CPU nodes, the CPU families of specs/cpu.py) and the region, both required."""
    compute = spec["compute"]
    if on_cpu(spec):
        node = {"key": CPU_NODE_LABEL, "operator": "In", "values": list(CPU_NODE_FAMILIES)}
    else:
        node = {"key": "gpu.nvidia.com/class", "operator": "In", "values": [compute["gpu_class"]]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{
        "matchExpressions": [
            node,
            {"key": "topology.kubernetes.io/region", "operator": "In", "values": [compute["region"]]},
        ]}]}}}


def _resources(spec):
    """Requests equal to limits; a CPU pod requests no GPU (CoreWeave schedules it on CPU nodes)."""
    compute = spec["compute"]
    amounts = {
        "cpu": _quantity(compute["cpu"]),
        "memory": f"{compute['memory_gi']}Gi",
    }
    if not on_cpu(spec):
        amounts["nvidia.com/gpu"] = str(compute["gpus_per_replica"])
    return {"limits": dict(amounts), "requests": dict(amounts)}


def _quantity(cpu):
    return str(int(cpu)) if float(cpu).is_integer() else f"{int(round(cpu * 1000))}m"


def _env(spec, extra=()):
    """Plain values, model settings, then secretKeyRef entries: never a secret value.

    MODEL_* and TENSORIZER_* are Gantry's own names for custom images; vLLM, TGI and Triton get
    what they read on their command line instead (specs/runtimes.py).
    """
    runtime, model = spec["runtime"], spec["model"]
    location = model_location(spec, downloaded=False)
    env = [{"name": k, "value": v} for k, v in sorted((runtime.get("env") or {}).items())]
    if runtime_kind(spec) != CUSTOM:
        return env + list(extra) + _secret_env(runtime)
    env.append({"name": "MODEL_URI", "value": location})
    env.append({"name": "MODEL_FORMAT", "value": model["format"]})
    env.append({"name": "MODEL_PRECISION", "value": model["precision"]})
    if model["format"] == "tensorizer":
        # Tensorizer streams the weights straight from the URI to the GPU; no copy to local disk first.
        env.append({"name": "TENSORIZER_URI", "value": location})
        env.append({"name": "TENSORIZER_NUM_READERS", "value": str(4 * (spec["compute"].get("gpus_per_replica") or 1))})
    env.extend(endpoint_env(spec))
    env.extend(extra)
    return env + _secret_env(runtime)


def _secret_env(runtime):
    out = []
    for name, ref in sorted((runtime.get("secret_env") or {}).items()):
        secret, key = ref.split("/", 1)
        out.append({"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}})
    return out


def _env_from(spec):
    secret = (spec.get("storage") or {}).get("credentials_secret")
    return [{"secretRef": {"name": secret}}] if secret else []


def pod_container(spec, name, *, env_extra=(), with_port=True, downloaded=False):
    """The model container; `downloaded`: KServe's storage initializer put the model at /mnt/models."""
    runtime = spec["runtime"]
    container = {"name": name, "image": runtime["image"]}
    served = container_fields(spec, downloaded=downloaded)
    command = served.get("command", runtime.get("command"))
    if command:
        container["command"] = list(command)
    args = served.get("args", runtime.get("args"))
    if args:
        container["args"] = list(args)
    container["env"] = _env(spec, [*env_extra, *served.get("env", [])])
    env_from = _env_from(spec)
    if env_from:
        container["envFrom"] = env_from
    if with_port:
        port_name = "h2c" if runtime.get("protocol") == "grpc" else "http1"
        container["ports"] = [{"containerPort": runtime["port"], "name": port_name, "protocol": "TCP"}]
        container.update(probes(spec) or {"readinessProbe": {"tcpSocket": {"port": runtime["port"]}, "periodSeconds": 5}})
    container["resources"] = _resources(spec)
    return container


def model_volume(spec, container):
    claim, _ = model_claim(spec)
    if not claim:
        return []
    container["volumeMounts"] = [{"name": "model", "mountPath": MODEL_MOUNT, "readOnly": True}]
    return [{"name": "model", "persistentVolumeClaim": {"claimName": claim, "readOnly": True}}]
