"""Every serving runtime × target × storage tier: golden files, the upstream CRDs and the Kubernetes pod schema.

The facts each runtime's output rests on are cited in specs/runtimes.py (vLLM's `vllm serve` arguments and
Tensorizer's S3_* variables, TGI's launcher flags, Triton's `s3://https://host:port/...` repositories,
KServe's service-account annotations).
"""

import itertools
import os
from pathlib import Path

import pytest
import yaml

from sandbox.crdschema import validate_object
from specs.render import manifests_render
from tests.kube_schema import pod_schema_problems
from tests.specs.test_render import completed

GOLDEN = Path(__file__).parent / "golden" / "matrix"
FORMATS = {"vllm": "tensorizer", "tgi": "safetensors", "triton": "other", "custom": "tensorizer"}
ENDPOINTS = {"object": "https://cwobject.com", "accelerated-object": "http://cwlota.com"}
# TGI reads only a local path: on Knative it cannot read s3://, and the validator refuses that spec
# (tests/specs/test_validation.py::test_a_runtime_that_could_not_load_the_model_is_refused).
REFUSED = {("tgi", "knative", "object"), ("tgi", "knative", "accelerated-object")}
CASES = [c for c in itertools.product(FORMATS, ("knative", "kserve"), ("object", "accelerated-object", "nvme-pvc"))
         if c not in REFUSED]


def matrix_spec(kind, target, tier):
    spec = completed(target=target, tier=tier)
    spec["runtime"] = {**spec["runtime"], "kind": kind, "startup_timeout_seconds": 300}
    if kind != "custom":
        spec["runtime"].update(port=8000, image={"vllm": "vllm/vllm-openai:v0.11.0",
                                                 "tgi": "ghcr.io/huggingface/text-generation-inference:3.3.5",
                                                 "triton": "nvcr.io/nvidia/tritonserver:25.10-py3"}[kind])
        spec["runtime"].pop("args")
    if FORMATS[kind] != "tensorizer":
        spec["model"] = {**spec["model"], "format": FORMATS[kind],
                         "uri": spec["model"]["uri"].replace("model.tensors", "")}
    if tier in ENDPOINTS:
        spec["storage"]["endpoint"] = ENDPOINTS[tier]
    return spec


@pytest.mark.parametrize("case", CASES, ids="-".join)
def test_each_runtime_target_and_tier_renders_valid_objects_matching_its_golden_file(case):
    objects = manifests_render(matrix_spec(*case), revision=1)
    for obj in objects:
        assert validate_object(obj) == [], obj["kind"]
        assert pod_schema_problems(obj) == []
    rendered = yaml.safe_dump_all(objects, sort_keys=True)
    path = GOLDEN / f"{'-'.join(case)}.yaml"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(rendered)
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 once and review it"
    assert rendered == path.read_text()


def test_the_kubernetes_schema_checks_what_no_crd_covers():
    claim, service = manifests_render(matrix_spec("triton", "knative", "nvme-pvc"))
    claim["spec"]["storageClass"] = claim["spec"].pop("storageClassName")
    assert validate_object(claim) == []  # a core kind: no CRD schema applies …
    assert "storageClass" in " ".join(pod_schema_problems(claim))  # … the Kubernetes schema does
    container = service["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbe"]["httpGet"]["port"] = [8000]
    assert pod_schema_problems(service) and validate_object(service)


def _env(container):
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def _container(objects):
    obj = objects[-1]
    if obj["kind"] == "InferenceService":
        return obj["spec"]["predictor"]["containers"][0]
    return obj["spec"]["template"]["spec"]["containers"][0]


@pytest.mark.parametrize("kind", ["vllm", "custom", "triton"])
def test_the_accelerated_tier_changes_where_the_server_reads_from(kind):
    plain = manifests_render(matrix_spec(kind, "knative", "object"))
    fast = manifests_render(matrix_spec(kind, "knative", "accelerated-object"))
    assert plain != fast
    container = _container(fast)
    if kind == "vllm":  # Tensorizer's own variable, from the catalog, not the Secret's optional key
        assert _env(container)["S3_ENDPOINT_URL"] == "http://cwlota.com"
        assert _env(container)["S3_ACCESS_KEY_ID"] == {"secretKeyRef": {"name": "s3-creds",
                                                                        "key": "AWS_ACCESS_KEY_ID", "optional": True}}
    elif kind == "custom":
        assert _env(container)["AWS_ENDPOINT_URL"] == "http://cwlota.com"
    else:
        assert "--model-repository=s3://http://cwlota.com:80/models/llama-3-8b/" in container["args"]
        assert "--model-repository=s3://https://cwobject.com:443/models/llama-3-8b/" in _container(plain)["args"]


def test_kserve_reads_the_endpoint_and_credentials_from_the_predictors_service_account():
    account, service = manifests_render(matrix_spec("tgi", "kserve", "accelerated-object"))
    assert account["kind"] == "ServiceAccount" and account["secrets"] == [{"name": "s3-creds"}]
    assert account["metadata"]["annotations"]["serving.kserve.io/s3-endpoint"] == "cwlota.com"
    assert account["metadata"]["annotations"]["serving.kserve.io/s3-usehttps"] == "0"
    predictor = service["spec"]["predictor"]
    assert predictor["serviceAccountName"] == account["metadata"]["name"] == "llama-chat-models"
    # Fetched once, by the storage initializer; the server reads the downloaded copy.
    assert predictor["storageUris"] == [{"mountPath": "/mnt/models", "uri": "s3://models/llama-3-8b/"}]
    assert "--model-id" in predictor["containers"][0]["args"]
    assert "/mnt/models" in predictor["containers"][0]["args"]


def test_vllm_streaming_tensorizer_weights_on_kserve_needs_no_service_account():
    objects = manifests_render(matrix_spec("vllm", "kserve", "object"))
    assert [o["kind"] for o in objects] == ["InferenceService"]
    assert "storageUris" not in objects[0]["spec"]["predictor"]


def test_a_custom_command_replaces_the_entrypoint():
    spec = matrix_spec("custom", "knative", "object")
    spec["runtime"]["command"] = ["python", "-m", "server"]
    container = _container(manifests_render(spec))
    assert container["command"] == ["python", "-m", "server"] and container["args"] == ["--port", "8080"]
