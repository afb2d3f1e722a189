"""The real kubectl (v1.32) lists the GPU nodes of `python -m sandbox --region ...`, and what it does to them is
what Gantry reads as free GPUs."""

import pytest

import clusters
from sandbox.nodes import GPU_CLASSES

from .conftest import sandbox_process, table_rows

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def kubectl_sandbox(tmp_path_factory):
    """This module's sandbox (the `kubectl` fixture runs against it): GPU nodes in ORD1 and RNO2, no simulator."""
    with sandbox_process(tmp_path_factory.mktemp("kubectl-nodes"),
                         ["--no-simulator", "--region", "ORD1", "--region", "RNO2"], ready="GPU nodes in ORD1, RNO2") as running:
        yield running


def test_get_nodes_shows_one_ready_node_per_class_and_region(kubectl):
    out = kubectl("get", "nodes").stdout
    rows = {row["NAME"]: row for row in table_rows(out)}
    assert list(next(iter(rows.values()))) == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert len(rows) == 2 * len(GPU_CLASSES)
    node = rows["ord1-a100-nvlink-80gb-1"]
    assert (node["STATUS"], node["ROLES"], node["VERSION"]) == ("Ready", "<none>", "v1.31.4-gantry-sandbox")
    wide = table_rows(kubectl("get", "no", "ord1-a40-1", "-o", "wide").stdout)[0]
    assert wide["INTERNAL-IP"].startswith("10.0.") and wide["CONTAINER-RUNTIME"].startswith("containerd://")


def test_nodes_carry_the_labels_and_gpus_gantry_selects_on(kubectl):
    selector = "gpu.nvidia.com/class=A40,topology.kubernetes.io/region=RNO2"
    names = kubectl("get", "nodes", "-l", selector, "-o", "name").stdout.split()
    assert names == ["node/rno2-a40-1"]
    gpus = kubectl("get", "node", "rno2-a40-1", "-o",
                   r"jsonpath={.status.allocatable.nvidia\.com/gpu} {.status.capacity.nvidia\.com/gpu}").stdout
    assert gpus == "8 8"
    assert "allocatable" in kubectl("explain", "node.status").stdout  # the Node schema is in the OpenAPI


def test_a_node_cordoned_with_kubectl_offers_gantry_no_gpus(kubectl, kubectl_sandbox):
    ref = clusters.ClusterRef(name="ord", kubeconfig=str(kubectl_sandbox[1]))
    assert clusters.capacity_read(cluster=ref)[("L40S", "ORD1")] == (8, 0)

    assert kubectl("cordon", "ord1-l40s-1").stdout.strip() == "node/ord1-l40s-1 cordoned"

    [row] = table_rows(kubectl("get", "node", "ord1-l40s-1").stdout)
    assert row["STATUS"] == "Ready,SchedulingDisabled"
    assert clusters.capacity_read(cluster=ref)[("L40S", "ORD1")] == (0, 0)
    kubectl("uncordon", "ord1-l40s-1")
    assert clusters.capacity_read(cluster=ref)[("L40S", "ORD1")] == (8, 0)
