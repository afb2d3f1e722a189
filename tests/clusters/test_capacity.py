"""clusters.capacity_read over real HTTP against the sandbox: GPU nodes by class and region, minus what pods ask."""

import pytest

import clusters
from sandbox.nodes import GPU_CLASSES, GpuNode, gpu_nodes
from sandbox.resources import resource_type
from sandbox.sim_pods import pod_set_phase
from specs.pods import node_affinity

pytestmark = pytest.mark.timeout(30)

PODS, NODES = resource_type("pods"), resource_type("nodes")


def _pod(sandbox, name, gpus, *, namespace="tenant-nlp", node=None, affinity=None, selector=None, phase=None,
         init_gpus=0):
    """A pod asking for `gpus` nvidia.com/gpu (as a limit, as Gantry's renderers write it)."""
    if sandbox.object("namespaces", None, namespace) is None:
        sandbox.store.create(resource_type("namespaces"), None, {"metadata": {"name": namespace}})
    spec = {"containers": [{"name": "model", "image": "llm:1",
                            "resources": {"limits": {"nvidia.com/gpu": str(gpus)}} if gpus else {}}]}
    if init_gpus:
        spec["initContainers"] = [{"name": "warm", "image": "llm:1",
                                   "resources": {"requests": {"nvidia.com/gpu": str(init_gpus)},
                                                 "limits": {"nvidia.com/gpu": str(init_gpus)}}}]
    if node:
        spec["nodeName"] = node
    if affinity:
        spec["affinity"] = affinity
    if selector:
        spec["nodeSelector"] = selector
    pod = sandbox.store.create(PODS, namespace, {"metadata": {"name": name}, "spec": spec})
    if phase:
        pod_set_phase(sandbox.store, pod, phase)
    return pod


def _gantry_affinity(gpu_class, region):
    """The required node affinity Gantry renders for a spec's class and region."""
    return node_affinity({"compute": {"gpu_class": gpu_class, "region": region}})


def test_every_gpu_class_of_the_default_sandbox_is_free_in_its_region(sandbox):
    report = clusters.capacity_read(cluster=_ref(sandbox))

    assert report == {(name, "LAS1"): (8, 0) for name in GPU_CLASSES}
    # One nodes list and one pods list across all namespaces, whatever the number of nodes and pods.
    assert [(r.method, r.path) for r in sandbox.requests] == [("GET", "/api/v1/nodes"), ("GET", "/api/v1/pods")]
    assert sandbox.requests[1].query["fieldSelector"] == "status.phase!=Succeeded,status.phase!=Failed"


def test_requested_gpus_count_on_the_class_and_region_of_their_pods(sandbox):
    sandbox.nodes_set(gpu_nodes(regions=["LAS1"], classes=["A40", "H100_NVLINK_80GB"], per_class=2)
                      + gpu_nodes(regions=["ORD1"], classes=["A40"]))
    _pod(sandbox, "bound", 3, node="las1-a40-1", phase="Running")
    _pod(sandbox, "bound-elsewhere", 1, node="ord1-a40-1", phase="Running", namespace="tenant-vision")
    # Not placed yet: counts where Gantry's affinity sends it, as the scheduler will.
    _pod(sandbox, "pending", 2, affinity=_gantry_affinity("A40", "LAS1"))
    _pod(sandbox, "pending-h100", 8, affinity=_gantry_affinity("H100_NVLINK_80GB", "LAS1"))
    # An init container asking more than the containers: the pod's effective request is the larger.
    _pod(sandbox, "init-heavy", 1, init_gpus=4, node="las1-h100-nvlink-80gb-2", phase="Running")
    _pod(sandbox, "finished", 8, node="las1-a40-2", phase="Succeeded")
    _pod(sandbox, "failed", 8, node="las1-a40-2", phase="Failed")
    _pod(sandbox, "cpu-only", 0, node="las1-a40-2", phase="Running")
    _pod(sandbox, "anywhere", 2)  # no node, no affinity: nobody can say where it will go
    _pod(sandbox, "either", 2, affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "gpu.nvidia.com/class", "operator": "In", "values": ["A40", "RTX_A6000"]},
            {"key": "topology.kubernetes.io/region", "operator": "In", "values": ["LAS1"]}]}]}}})
    _pod(sandbox, "selected", 1, namespace="tenant-vision",
         selector={"gpu.nvidia.com/class": "A40", "topology.kubernetes.io/region": "ORD1"})

    report = clusters.capacity_read(cluster=_ref(sandbox))

    assert report == {("A40", "LAS1"): (16, 5), ("H100_NVLINK_80GB", "LAS1"): (16, 12), ("A40", "ORD1"): (8, 2)}


def test_a_cordoned_or_not_ready_node_offers_nothing(sandbox):
    sandbox.nodes_set(gpu_nodes(regions=["LAS1"], classes=["A40"], per_class=3))
    sandbox.store.patch(NODES, None, "las1-a40-1", {"spec": {"unschedulable": True}}, patch_type="merge")
    sandbox.store.patch(NODES, None, "las1-a40-2", {"status": {"conditions": [
        {"type": "Ready", "status": "False", "reason": "KubeletNotReady"}]}}, patch_type="merge", subresource="status")
    _pod(sandbox, "on-cordoned", 4, node="las1-a40-1", phase="Running")
    _pod(sandbox, "on-ready", 1, node="las1-a40-3", phase="Running")

    assert clusters.capacity_read(cluster=_ref(sandbox)) == {("A40", "LAS1"): (8, 1)}


def test_nodes_without_both_labels_are_not_gpu_pools(sandbox):
    sandbox.nodes_set([GpuNode("cpu-1", "A40", "LAS1", gpus=0)])
    sandbox.store.create(NODES, None, {"metadata": {"name": "unlabelled", "labels": {}},
                                       "status": {"allocatable": {"nvidia.com/gpu": "8"}}})

    assert clusters.capacity_read(cluster=_ref(sandbox)) == {("A40", "LAS1"): (0, 0)}


def test_a_cluster_that_cannot_be_read_raises_cluster_error(sandbox):
    sandbox.fail_next("GET", "^/api/v1/pods$", status=503)
    with pytest.raises(clusters.ClusterError) as err:
        clusters.capacity_read(cluster=_ref(sandbox))
    assert not err.value.permanent and "listing pods in every namespace" in err.value.message

    sandbox.drop_next("GET", "^/api/v1/nodes$")
    with pytest.raises(clusters.ClusterError) as err:
        clusters.capacity_read(cluster=_ref(sandbox))
    assert not err.value.permanent and "cannot reach" in err.value.message


def _ref(sandbox):
    return clusters.ClusterRef(name="las", kubeconfig=sandbox.kubeconfig_path)
