"""The sandbox's GPU nodes: the catalog's classes in a region by default, chosen per cluster, back after a reset."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from catalog.models import GpuClass
from sandbox.nodes import DEFAULT_REGION, GPU_CLASSES, gpu_nodes

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(30)


def _labels(sandbox):
    return sorted((n["metadata"]["labels"]["gpu.nvidia.com/class"], n["metadata"]["labels"][
        "topology.kubernetes.io/region"], n["status"]["allocatable"]["nvidia.com/gpu"]) for n in sandbox.objects("nodes"))


@pytest.mark.django_db
def test_the_default_nodes_cover_every_gpu_class_of_the_catalog(sandbox):
    assert set(GPU_CLASSES) == set(GpuClass.objects.values_list("name", flat=True))
    assert _labels(sandbox) == sorted((name, DEFAULT_REGION, "8") for name in GPU_CLASSES)


def test_nodes_set_lasts_until_the_next_reset(sandbox):
    sandbox.nodes_set(gpu_nodes(regions=["ORD1", "RNO2"], classes=["H200"], per_class=2, gpus=4))
    assert _labels(sandbox) == [("H200", "ORD1", "4")] * 2 + [("H200", "RNO2", "4")] * 2
    assert sorted(n["metadata"]["name"] for n in sandbox.objects("nodes"))[0] == "ord1-h200-1"

    sandbox.reset()
    assert len(sandbox.objects("nodes")) == len(GPU_CLASSES)


def test_a_node_registered_through_the_api_keeps_its_status(core):
    # As a kubelet registers its node: status with the create (kubernetes pkg/registry/core/node/strategy.go).
    core.create_node({"metadata": {"name": "gpu-new", "labels": {"gpu.nvidia.com/class": "A40"}},
                      "status": {"allocatable": {"nvidia.com/gpu": "2"}, "capacity": {"nvidia.com/gpu": "2"}}})
    assert core.read_node("gpu-new").status.allocatable == {"nvidia.com/gpu": "2"}
    assert "gpu-new" in [n.metadata.name for n in core.list_node().items]


@pytest.mark.parametrize("args, message", [
    (["--region", "ORD 1"], "--region 'ORD 1': a region is a label value"),
    (["--nodes-per-class", "-1"], "--nodes-per-class -1: use 0 or more"),
])
def test_the_command_line_refuses_a_bad_node_option_and_says_how(tmp_path, args, message):
    proc = subprocess.run([sys.executable, "-m", "sandbox", "--port", "0", "--kubeconfig", str(tmp_path / "kc"),
                           *args], cwd=ROOT, capture_output=True, text=True, timeout=20, env=dict(os.environ))
    assert proc.returncode == 2 and message in proc.stderr
    assert not (tmp_path / "kc").exists()
