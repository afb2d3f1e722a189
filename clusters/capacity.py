"""How many GPUs a cluster has free, per GPU class and region: two list calls, counted in memory.

A node offers `nvidia.com/gpu` in status.allocatable (what the NVIDIA device plugin advertises) under its
`gpu.nvidia.com/class` and `topology.kubernetes.io/region` labels, the two Gantry's pods require (specs/pods.py).
Requested is what the pods that are not finished ask for: a pod bound to a node counts on that node's class and
region; a pod the scheduler has not placed yet counts where its node selector or required node affinity sends it
(one class, one region), because those GPUs are spoken for as soon as it is placed. A cordoned or not-Ready node
takes no new pods: neither its GPUs nor its pods count. Pure reading; what it means for the catalog is
deployments/services/capacity.py.
"""

import logging
from collections import defaultdict

from .client import request
from .observe import GPU_RESOURCE

log = logging.getLogger(__name__)

# CoreWeave's GPU class node label (shared/reference/catalog-facts.md) and Kubernetes' well-known region label
# (kubernetes.io/docs/reference/labels-annotations-taints/#topologykubernetesioregion).
GPU_CLASS_LABEL = "gpu.nvidia.com/class"
REGION_LABEL = "topology.kubernetes.io/region"
# The pods that hold resources on a node: what `kubectl describe node` lists (k8s.io/kubectl pkg/describe
# describe.go, "status.phase!=Succeeded,status.phase!=Failed"), here across all namespaces.
NOT_FINISHED = "status.phase!=Succeeded,status.phase!=Failed"


def capacity_read(*, cluster=None):
    """{(gpu class, region): (allocatable GPUs, requested GPUs)} of one cluster: one nodes list and one pods list
    across all namespaces. Only nodes with both labels appear. ClusterError propagates."""
    nodes = request("GET", "/api/v1/nodes", what="listing nodes", cluster=cluster).get("items") or []
    pods = request("GET", "/api/v1/pods", query={"fieldSelector": NOT_FINISHED},
                   what="listing pods in every namespace", cluster=cluster).get("items") or []
    pools, where = {}, {}  # (class, region) -> [allocatable, requested]; schedulable node name -> (class, region)
    for node in nodes:
        key = _node_pool(node)
        if key is None:
            continue
        pool = pools.setdefault(key, [0, 0])
        if _schedulable(node):
            where[node["metadata"]["name"]] = key
            pool[0] += _count((node.get("status") or {}).get("allocatable"))
    for pod in pods:
        gpus = _pod_gpus(pod)
        if not gpus:
            continue
        node_name = (pod.get("spec") or {}).get("nodeName")
        key = where.get(node_name) if node_name else _pod_target(pod)
        if key in pools:
            pools[key][1] += gpus
    return {key: (allocatable, requested) for key, (allocatable, requested) in pools.items()}


def _node_pool(node):
    labels = (node.get("metadata") or {}).get("labels") or {}
    gpu_class, region = labels.get(GPU_CLASS_LABEL), labels.get(REGION_LABEL)
    return (gpu_class, region) if gpu_class and region else None


def _schedulable(node):
    """Not cordoned (spec.unschedulable) and Ready: the scheduler places new pods only there."""
    if (node.get("spec") or {}).get("unschedulable"):
        return False
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions if isinstance(c, dict))


def _count(resources):
    """The integer `nvidia.com/gpu` of a resource list (extended resources are whole numbers); 0 when absent."""
    try:
        return max(0, int(str((resources or {}).get(GPU_RESOURCE, 0))))
    except ValueError:
        return 0


def _container_gpus(container):
    """A container's GPU request; an extended resource given only as a limit is requested as much."""
    resources = (container.get("resources") if isinstance(container, dict) else None) or {}
    requests = resources.get("requests") or {}
    return _count(requests if GPU_RESOURCE in requests else resources.get("limits"))


def _pod_gpus(pod):
    """The pod's effective request: the larger of its containers' sum and its largest init container
    (kubernetes.io/docs/concepts/workloads/pods/init-containers/#resource-sharing-within-containers)."""
    spec = pod.get("spec") or {}
    running = sum(_container_gpus(c) for c in spec.get("containers") or [])
    init = max((_container_gpus(c) for c in spec.get("initContainers") or []), default=0)
    return max(running, init)


def _pod_target(pod):
    """(class, region) an unplaced pod must go to, from its nodeSelector and required node affinity; None when
    they allow more than one class or region (or name none): then it is not counted anywhere."""
    spec = pod.get("spec") or {}
    selector = spec.get("nodeSelector") or {}
    fixed = {label: {selector[label]} for label in (GPU_CLASS_LABEL, REGION_LABEL) if label in selector}
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms") or [{}]
    found = set()
    for term in terms:  # terms are ORed: every one must name the same single class and region
        allowed = {label: set(values) for label, values in fixed.items()}
        for expression in (term or {}).get("matchExpressions") or []:
            label = expression.get("key")
            if label in (GPU_CLASS_LABEL, REGION_LABEL) and expression.get("operator") == "In":
                values = set(expression.get("values") or [])
                allowed[label] = allowed[label] & values if label in allowed else values
        classes, regions = allowed.get(GPU_CLASS_LABEL, set()), allowed.get(REGION_LABEL, set())
        if len(classes) != 1 or len(regions) != 1:
            return None
        found.add((next(iter(classes)), next(iter(regions))))
    return found.pop() if len(found) == 1 else None
