"""k8s/ as `kubectl apply -k` sees it: each kustomize overlay rendered by the real kubectl (once per session)."""

import functools
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "k8s"
OVERLAYS = ("plain", "demo")


def render(directory):
    """The objects `kubectl kustomize <directory>` prints."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is not installed: k8s/ is rendered by the real client (/usr/bin/kubectl)")
    result = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@functools.cache
def _rendered_text(overlay):
    return yaml.safe_dump_all(render(K8S / "overlays" / overlay))


def rendered(overlay="plain"):
    """The overlay's objects (a fresh copy each call: tests may change what they get)."""
    return list(yaml.safe_load_all(_rendered_text(overlay)))


def one(docs, kind, name=None):
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"{len(found)} {kind} {name or ''} in the rendered manifests"
    return found[0]


def pod_specs(docs):
    """(object, pod spec) for every Deployment and Job."""
    return [(d, d["spec"]["template"]["spec"]) for d in docs if d["kind"] in ("Deployment", "Job")]


def granted(docs):
    """(API group, resource, verb) triples the ClusterRole grants."""
    role = one(docs, "ClusterRole")
    return {(group, resource, verb) for rule in role["rules"] for group in rule["apiGroups"]
            for resource in rule["resources"] for verb in rule["verbs"]}
