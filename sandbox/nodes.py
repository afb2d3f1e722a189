"""The GPU nodes of a sandbox cluster: what `kubectl get nodes` lists and what Gantry reads free GPUs from.

Each node carries the labels Gantry's renderers select on (specs/pods.py's node affinity):
`gpu.nvidia.com/class` (CoreWeave's GPU class label, shared/reference/catalog-facts.md) and
`topology.kubernetes.io/region` (a well-known Kubernetes label), and advertises `nvidia.com/gpu` in
status.capacity and status.allocatable, as the NVIDIA device plugin makes the kubelet do. The simulator does
not schedule: its pods stay unbound, as before.

Default: one node of 8 GPUs per GPU class of the catalog in DEFAULT_REGION; `python -m sandbox --region ORD1`
and SandboxCluster(nodes=gpu_nodes(regions=["ORD1"])) choose others.
"""

import uuid
from dataclasses import dataclass

from .errors import ApiError
from .resources import resource_type
from .server_info import VERSION_INFO

NODES = resource_type("nodes")
GPU_CLASS_LABEL = "gpu.nvidia.com/class"
REGION_LABEL = "topology.kubernetes.io/region"
GPU_RESOURCE = "nvidia.com/gpu"

# The classes of catalog/migrations/0002_seed_catalog.py (from shared/reference/catalog-facts.md); the sandbox
# imports nothing from the apps, so a test keeps the two lists equal.
GPU_CLASSES = (
    "H100_NVLINK_80GB", "H100_PCIE", "A100_NVLINK_80GB", "A100_PCIE_80GB", "A100_NVLINK", "A100_PCIE_40GB", "A40",
    "RTX_A6000", "RTX_A5000", "RTX_A4000", "Tesla_V100_NVLINK", "Quadro_RTX_5000", "Quadro_RTX_4000", "L40", "L40S",
    "H200",
)
DEFAULT_REGION = "LAS1"  # the region of SPEC.md's example spec
GPUS_PER_NODE = 8  # an HGX board; the sandbox gives every class the same


@dataclass(frozen=True)
class GpuNode:
    name: str
    gpu_class: str
    region: str
    gpus: int = GPUS_PER_NODE


def gpu_nodes(*, regions=(DEFAULT_REGION,), classes=GPU_CLASSES, per_class=1, gpus=GPUS_PER_NODE):
    """`per_class` nodes of each class in each region, named like `las1-a100-nvlink-80gb-1`."""
    return [GpuNode(f"{region}-{gpu_class}-{index}".lower().replace("_", "-"), gpu_class, region, gpus)
            for region in regions for gpu_class in classes for index in range(1, per_class + 1)]


def node_object(node, index=0):
    """The Node a kubelet with the NVIDIA device plugin registers: labels, GPUs, Ready."""
    resources = {"cpu": "64", "memory": "515000Mi", "pods": "110", GPU_RESOURCE: str(node.gpus)}
    machine = uuid.uuid5(uuid.NAMESPACE_DNS, node.name)  # stable per node name
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": node.name, "labels": {
            "kubernetes.io/hostname": node.name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            GPU_CLASS_LABEL: node.gpu_class, REGION_LABEL: node.region}},
        "spec": {},
        "status": {
            "capacity": dict(resources), "allocatable": dict(resources),
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status"}],
            "addresses": [{"type": "InternalIP", "address": f"10.0.{index // 250}.{index % 250 + 1}"},
                          {"type": "Hostname", "address": node.name}],
            # Every field of NodeSystemInfo (none is omitempty, and the official Python client requires them
            # all); kubeProxyVersion is deprecated (KEP-4004), the sandbox leaves it empty.
            "nodeInfo": {"kubeletVersion": VERSION_INFO["gitVersion"], "kubeProxyVersion": "",
                         "osImage": "Ubuntu 22.04.4 LTS", "kernelVersion": "5.15.0-119-generic",
                         "containerRuntimeVersion": "containerd://1.7.22", "operatingSystem": "linux",
                         "architecture": "amd64", "machineID": machine.hex, "systemUUID": str(machine),
                         "bootID": str(uuid.uuid5(machine, "boot"))},
        },
    }


def nodes_replace(store, nodes):
    """Make the store's Nodes exactly `nodes` (GpuNode list): the others are deleted."""
    for existing in store.objects(NODES):
        try:
            store.delete(NODES, None, existing["metadata"]["name"])
        except ApiError:
            pass  # deleted meanwhile
    for index, node in enumerate(nodes):
        store.create(NODES, None, node_object(node, index))
