"""Rendered objects: strict validation against the upstream CRDs, golden files, and what a user relies on."""

import copy
import itertools
import json
import os
from pathlib import Path

import pytest
import yaml

from sandbox.crdschema import validate_object
from specs.render import manifests_render

GOLDEN = Path(__file__).parent / "golden"


def completed(workload="online", target="knative", tier="accelerated-object", visibility="public",
              batching=False, protocol="http", **overrides):
    """A completed spec (what spec_complete returns), built by hand so these tests need no database."""
    uri = "pvc://llama-weights/llama-3-8b/model.tensors" if tier == "nvme-pvc" else "s3://models/llama-3-8b/model.tensors"
    spec = {
        "name": "llama-chat" if workload == "online" else "nightly-batch",
        "team": "nlp",
        "workload": workload,
        "target": target if workload == "online" else "argo",
        "runtime": {"image": "ghcr.io/acme/llm-server:1.4", "args": ["--port", "8080"], "port": 8080,
                    "protocol": protocol, "env": {"LOG_LEVEL": "info"},
                    "secret_env": {"HF_TOKEN": "hf-token/token"}, "timeout_seconds": 300},
        "model": {"uri": uri, "parameters_billions": 8.0, "precision": "bf16", "format": "tensorizer"},
        "storage": {"tier": tier, "credentials_secret": "s3-creds"},
        "compute": {"gpu_class": "RTX_A5000", "gpus_per_replica": 1, "region": "LAS1", "cpu": 4, "memory_gi": 24},
        "access": {"visibility": visibility, "cross_cloud_clients": False},
        "request_queue": False, "models_per_gpu": 1, "region_preference": "best-availability",
    }
    if tier == "nvme-pvc":
        spec["storage"]["pvc_size_gi"] = 50
    if workload == "online":
        spec["scaling"] = {"min_replicas": 0, "max_replicas": 3, "target_concurrency": 1,
                           "target_utilization_percent": 85, "scale_to_zero_retention": "30m",
                           "latency_tolerance": "moderate"}
        if batching:
            spec["batching"] = {"max_batch_size": 8, "max_latency_ms": 50}
    else:
        spec["batch"] = {"inputs_uri": "s3://data/prompts/", "outputs_uri": "s3://data/completions/",
                         "parallelism": 4, "timeout_minutes": 120, "retries": 2}
    spec.update(overrides)
    return spec


ONLINE = [dict(workload="online", target=t, tier=s, visibility=v, batching=b, protocol=p)
          for t, s, v, b, p in itertools.product(("knative", "kserve"), ("object", "accelerated-object", "nvme-pvc"),
                                                 ("public", "cluster-local"), (False, True), ("http", "grpc"))]
BATCH = [dict(workload="batch", tier=s) for s in ("object", "accelerated-object", "nvme-pvc")]


@pytest.mark.parametrize("choice", ONLINE + BATCH, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_every_rendered_object_validates_strictly_against_upstream_crds(choice):
    objects = manifests_render(completed(**choice), revision=3)
    kinds = [o["kind"] for o in objects]
    expected = {"knative": "Service", "kserve": "InferenceService"}.get(choice.get("target"), "Workflow")
    if choice["tier"] == "nvme-pvc":
        assert kinds == ["PersistentVolumeClaim", expected]
    elif expected == "InferenceService":
        # KServe's storage initializer reads the S3 credentials through the predictor's service account.
        assert kinds == ["ServiceAccount", expected]
    else:
        assert kinds == [expected]
    for obj in objects:
        assert validate_object(obj) == [], obj["kind"]
        assert obj["metadata"]["namespace"] == "tenant-nlp"
        assert obj["metadata"]["annotations"]["gantry.io/revision"] == "3"


def test_strict_validation_catches_a_typo():
    service = manifests_render(completed())[0]
    service["spec"]["template"]["spec"]["containerConcurency"] = 1
    annotations = service["spec"]["template"]["metadata"]["annotations"]
    annotations["autoscaling.knative.dev/min-scale"] = 0
    problems = validate_object(service)
    assert any("containerConcurency" in p for p in problems) and any("min-scale" in p for p in problems)


def _pod_spec(obj):
    return {"Service": lambda: obj["spec"]["template"]["spec"],
            "InferenceService": lambda: obj["spec"]["predictor"],
            "Workflow": lambda: obj["spec"]}[obj["kind"]]()


def _container(obj):
    if obj["kind"] == "Workflow":
        return obj["spec"]["templates"][1]["container"]
    return _pod_spec(obj)["containers"][0]


@pytest.mark.parametrize("choice", [dict(target="knative"), dict(target="kserve"), dict(workload="batch")])
def test_gpu_affinity_labels_and_secrets(choice):
    obj = manifests_render(completed(**choice))[-1]
    terms = _pod_spec(obj)["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    expressions = {e["key"]: e["values"] for e in terms["nodeSelectorTerms"][0]["matchExpressions"]}
    assert expressions == {"gpu.nvidia.com/class": ["RTX_A5000"], "topology.kubernetes.io/region": ["LAS1"]}
    container = _container(obj)
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert container["resources"]["requests"] == {"cpu": "4", "memory": "24Gi", "nvidia.com/gpu": "1"}
    env = {e["name"]: e for e in container["env"]}
    assert env["HF_TOKEN"] == {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token"}}}
    assert env["MODEL_URI"]["value"] == "s3://models/llama-3-8b/model.tensors"
    assert env["TENSORIZER_URI"]["value"] == "s3://models/llama-3-8b/model.tensors"
    assert container["envFrom"] == [{"secretRef": {"name": "s3-creds"}}]
    labels = {"app.kubernetes.io/managed-by": "gantry", "gantry.io/team": "nlp"}
    pod_labels = {"Service": lambda: obj["spec"]["template"]["metadata"]["labels"],
                  "InferenceService": lambda: obj["spec"]["predictor"]["labels"],
                  "Workflow": lambda: obj["spec"]["podMetadata"]["labels"]}[obj["kind"]]()
    for where in (obj["metadata"]["labels"], pod_labels):
        assert labels.items() <= where.items() and where["gantry.io/deployment"] == obj["metadata"]["name"]


def test_knative_service_autoscaling_is_all_strings_and_batching_sets_concurrency():
    service = manifests_render(completed(batching=True, visibility="cluster-local", protocol="grpc"))[0]
    template = service["spec"]["template"]
    assert template["metadata"]["annotations"] == {
        "autoscaling.knative.dev/class": "kpa.autoscaling.knative.dev",
        "autoscaling.knative.dev/metric": "concurrency",
        "autoscaling.knative.dev/target": "1",
        "autoscaling.knative.dev/target-utilization-percentage": "85",
        "autoscaling.knative.dev/min-scale": "0",
        "autoscaling.knative.dev/max-scale": "3",
        "autoscaling.knative.dev/scale-to-zero-pod-retention-period": "30m",
    }
    assert template["spec"]["containerConcurrency"] == 8 and template["spec"]["timeoutSeconds"] == 300
    assert service["metadata"]["labels"]["networking.knative.dev/visibility"] == "cluster-local"
    container = template["spec"]["containers"][0]
    assert container["ports"] == [{"containerPort": 8080, "name": "h2c", "protocol": "TCP"}]
    assert container["readinessProbe"]["tcpSocket"]["port"] == 8080
    assert "networking.knative.dev/visibility" not in manifests_render(completed())[0]["metadata"]["labels"]


def test_warm_service_has_no_retention_annotation():
    spec = completed()
    spec["scaling"].update(min_replicas=1)
    annotations = manifests_render(spec)[0]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["autoscaling.knative.dev/min-scale"] == "1"
    assert "autoscaling.knative.dev/scale-to-zero-pod-retention-period" not in annotations


def test_inference_service_scaling_batcher_and_storage():
    isvc = manifests_render(completed(target="kserve", batching=True, tier="nvme-pvc"))[1]
    predictor = isvc["spec"]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (0, 3)
    assert (predictor["scaleMetric"], predictor["scaleTarget"]) == ("concurrency", 1)
    assert predictor["batcher"] == {"maxBatchSize": 8, "maxLatency": 50}
    assert predictor["storageUris"] == [{"mountPath": "/mnt/models", "uri": "pvc://llama-weights/llama-3-8b/model.tensors"}]
    assert predictor["containers"][0]["name"] == "kserve-container"


def test_pvc_in_the_pods_region_shared_when_several_pods_read_it():
    pvc = manifests_render(completed(tier="nvme-pvc"))[0]
    assert pvc["metadata"]["name"] == "llama-weights"
    assert pvc["spec"]["storageClassName"] == "shared-nvme-las1" and pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    spec = completed(tier="nvme-pvc")
    spec["scaling"]["max_replicas"] = 1
    pvc, service = manifests_render(spec)
    assert pvc["spec"]["storageClassName"] == "block-nvme-las1" and pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert pvc["spec"]["resources"]["requests"]["storage"] == "50Gi"
    pod = service["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "model", "persistentVolumeClaim": {"claimName": "llama-weights", "readOnly": True}}]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["MODEL_URI"] == "/mnt/models/llama-3-8b/model.tensors"


def test_workflow_shards_retries_and_lifetimes():
    workflow = manifests_render(completed(workload="batch"))[0]
    spec = workflow["spec"]
    assert spec["parallelism"] == 4 and spec["activeDeadlineSeconds"] == 7200
    assert spec["podGC"] == {"strategy": "OnPodSuccess"} and "secondsAfterSuccess" in spec["ttlStrategy"]
    for parameter in spec["arguments"]["parameters"]:
        assert isinstance(parameter["value"], str)
    assert {p["name"]: p["value"] for p in spec["arguments"]["parameters"]}["shard-count"] == "4"
    run, shard = spec["templates"]
    step = run["steps"][0][0]
    assert step["withSequence"] == {"count": "4"} and step["arguments"]["parameters"][0]["value"] == "{{item}}"
    assert shard["retryStrategy"]["limit"] == "2" and shard["retryStrategy"]["backoff"]["factor"] == "2"
    env = {e["name"]: e.get("value") for e in shard["container"]["env"]}
    assert env["SHARD_INDEX"] == "{{inputs.parameters.shard-index}}"
    assert env["SHARD_COUNT"] == "{{workflow.parameters.shard-count}}"
    assert "ports" not in shard["container"]


def test_no_secret_value_anywhere_in_the_output():
    text = json.dumps(manifests_render(completed()))
    assert "hf-token" in text and "valueFrom" in text
    assert '"value": "hf-token/token"' not in text


def test_output_is_deterministic_and_does_not_touch_the_input():
    spec = completed(target="kserve", batching=True)
    before = copy.deepcopy(spec)
    first = json.dumps(manifests_render(spec, revision=1))
    assert json.dumps(manifests_render(copy.deepcopy(spec), revision=1)) == first
    assert spec == before


GOLDEN_CASES = {
    "knative-online": dict(),
    "knative-grpc-cluster-local-batching": dict(protocol="grpc", visibility="cluster-local", batching=True),
    "kserve-nvme-pvc": dict(target="kserve", tier="nvme-pvc", batching=True),
    "argo-batch": dict(workload="batch"),
}


@pytest.mark.parametrize("case", sorted(GOLDEN_CASES))
def test_golden_yaml(case):
    """Compare with tests/specs/golden/<case>.yaml; UPDATE_GOLDEN=1 rewrites them (review the diff)."""
    rendered = yaml.safe_dump_all(manifests_render(completed(**GOLDEN_CASES[case]), revision=1), sort_keys=True)
    path = GOLDEN / f"{case}.yaml"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(rendered)
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 once and review it"
    assert rendered == path.read_text()


# --- serving runtimes: what each server reads (sources in specs/runtimes.py) ---------------------------------

RUNTIME_CASES = {
    # vLLM 2026 (`vllm serve` entrypoint): model positional, Tensorizer via --load-format and its JSON config.
    "vllm-knative-tensorizer": dict(runtime_kind="vllm"),
    "vllm-kserve-safetensors": dict(runtime_kind="vllm", target="kserve", fmt="safetensors"),
    "tgi-kserve": dict(runtime_kind="tgi", target="kserve", fmt="safetensors"),
    "triton-knative-pvc": dict(runtime_kind="triton", tier="nvme-pvc", fmt="other"),
}


def runtime_spec(runtime_kind, fmt="tensorizer", **choice):
    spec = completed(**choice)
    spec["runtime"] = {**spec["runtime"], "kind": runtime_kind, "port": 8000, "startup_timeout_seconds": 300}
    spec["runtime"].pop("args")
    if fmt != "tensorizer":
        spec["model"] = {**spec["model"], "format": fmt, "uri": spec["model"]["uri"].replace("model.tensors", "")}
    return spec


def _model_container(objects):
    obj = objects[-1]
    if obj["kind"] == "InferenceService":
        return obj["spec"]["predictor"]["containers"][0], obj
    return obj["spec"]["template"]["spec"]["containers"][0], obj


@pytest.mark.parametrize("case", sorted(RUNTIME_CASES))
def test_runtimes_render_valid_objects_and_match_their_golden_files(case):
    objects = manifests_render(runtime_spec(**RUNTIME_CASES[case]), revision=1)
    for obj in objects:
        assert validate_object(obj) == [], obj["kind"]
    rendered = yaml.safe_dump_all(objects, sort_keys=True)
    path = GOLDEN / f"runtime-{case}.yaml"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(rendered)
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 once and review it"
    assert rendered == path.read_text()


def test_vllm_gets_its_model_gpus_name_and_tensorizer_config_on_the_command_line():
    spec = runtime_spec("vllm")
    spec["compute"]["gpus_per_replica"] = 2
    container, _ = _model_container(manifests_render(spec))
    args = container["args"]
    assert args[0] == "s3://models/llama-3-8b"  # the directory with the config; the weights stream from S3
    assert args[args.index("--tensor-parallel-size") + 1] == "2"
    assert args[args.index("--served-model-name") + 1] == "llama-chat"
    assert args[args.index("--port") + 1] == "8000"
    assert args[args.index("--load-format") + 1] == "tensorizer"
    config = json.loads(args[args.index("--model-loader-extra-config") + 1])
    assert config == {"tensorizer_uri": "s3://models/llama-3-8b/model.tensors", "num_readers": 8}
    env = {e["name"]: e for e in container["env"]}
    assert env["S3_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"] == {
        "name": "s3-creds", "key": "AWS_ACCESS_KEY_ID", "optional": True}
    assert "TENSORIZER_URI" not in env and "MODEL_URI" not in env  # names no server reads
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["startupProbe"]["failureThreshold"] * container["startupProbe"]["periodSeconds"] >= 300


def test_vllm_on_kserve_streaming_from_s3_is_not_downloaded_first():
    _, isvc = _model_container(manifests_render(runtime_spec("vllm", target="kserve")))
    assert "storageUris" not in isvc["spec"]["predictor"]
    _, isvc = _model_container(manifests_render(runtime_spec("vllm", target="kserve", fmt="safetensors")))
    assert isvc["spec"]["predictor"]["storageUris"][0]["mountPath"] == "/mnt/models"


def test_triton_and_tgi_probe_their_own_health_endpoints():
    container, _ = _model_container(manifests_render(runtime_spec("triton", tier="nvme-pvc", fmt="other")))
    assert container["command"] == ["tritonserver"]
    assert container["args"][0] == "--model-repository=/mnt/models/llama-3-8b"
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    container, _ = _model_container(manifests_render(runtime_spec("tgi", target="kserve", fmt="safetensors")))
    assert container["args"][:4] == ["--model-id", "/mnt/models", "--num-shard", "1"]
    assert container["args"][-2:] == ["--hostname", "0.0.0.0"]


def test_a_custom_image_renders_exactly_as_before_unless_it_names_a_health_path():
    before = manifests_render(completed(), revision=1)
    spec = completed()
    spec["runtime"] = {**spec["runtime"], "kind": "custom"}
    assert manifests_render(spec, revision=1) == before
    spec["runtime"]["health_path"] = "/ready"
    container, _ = _model_container(manifests_render(spec))
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": 8080}


def test_the_stated_context_reaches_the_servers_own_limit():
    spec = runtime_spec("vllm")
    spec["serving"] = {"max_context_tokens": 32768}
    args = _model_container(manifests_render(spec))[0]["args"]
    assert args[args.index("--max-model-len") + 1] == "32768"
    spec = runtime_spec("tgi", target="kserve", fmt="safetensors")
    spec["serving"] = {"max_context_tokens": 8192}
    args = _model_container(manifests_render(spec))[0]["args"]
    assert args[args.index("--max-total-tokens") + 1] == "8192"


# --- CPU nodes (compute.accelerator: cpu) -------------------------------------------------------------------

CPU_COMPUTE = {"accelerator": "cpu", "region": "LAS1", "cpu": 8, "memory_gi": 8}


def cpu_spec(**choice):
    """A 1B model on CPU nodes: no GPU class, no GPU count (what spec_complete gives for accelerator: cpu)."""
    spec = completed(tier="object", name="tiny-cpu", **choice)
    spec["compute"] = dict(CPU_COMPUTE)
    spec["model"] = {"uri": "s3://models/tiny-1b/", "parameters_billions": 1.0, "precision": "bf16",
                     "format": "safetensors"}
    return spec


def _objects_pods(objects):
    return [_pod_spec(o) for o in objects if o["kind"] in ("Service", "InferenceService", "Workflow")]


@pytest.mark.parametrize("choice", [dict(), dict(target="kserve"), dict(workload="batch"),
                                    dict(runtime_kind="vllm")], ids=["knative", "kserve", "argo", "vllm"])
def test_cpu_pods_request_no_gpu_and_go_to_cpu_nodes(choice):
    from tests.kube_schema import pod_schema_problems

    choice = dict(choice)
    kind = choice.pop("runtime_kind", None)
    spec = cpu_spec(**choice)
    if kind:
        spec["runtime"] = {**spec["runtime"], "kind": kind}
    objects = manifests_render(spec, revision=1)
    for obj in objects:
        assert validate_object(obj) == [], obj["kind"]
        assert pod_schema_problems(obj) == [], obj["kind"]  # the pods' template, against Kubernetes' schema
    assert "nvidia.com/gpu" not in json.dumps(objects) and "gpu.nvidia.com/class" not in json.dumps(objects)
    (pod,) = _objects_pods(objects)
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [
        # CoreWeave's CPU families with AVX2 (node-types.md, "CPU Availability"), and the region as for GPUs.
        {"key": "node.coreweave.cloud/cpu", "operator": "In",
         "values": ["amd-epyc-milan", "amd-epyc-rome", "intel-xeon-v4"]},
        {"key": "topology.kubernetes.io/region", "operator": "In", "values": ["LAS1"]},
    ]}]
    container = _container(objects[-1])
    assert container["resources"] == {"limits": {"cpu": "8", "memory": "8Gi"}, "requests": {"cpu": "8", "memory": "8Gi"}}
    if kind == "vllm":
        assert container["args"][container["args"].index("--tensor-parallel-size") + 1] == "1"


def test_cpu_knative_service_golden():
    """tests/specs/golden/knative-cpu.yaml, validated against the Knative CRD; UPDATE_GOLDEN=1 rewrites it."""
    from tests.kube_schema import pod_schema_problems

    objects = manifests_render(cpu_spec(), revision=1)
    for obj in objects:
        assert validate_object(obj) == [] and pod_schema_problems(obj) == [], obj["kind"]
    rendered = yaml.safe_dump_all(objects, sort_keys=True)
    path = GOLDEN / "knative-cpu.yaml"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(rendered)
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 once and review it"
    assert rendered == path.read_text()


# --- batch runs on a schedule: an Argo CronWorkflow (issue 15) ---------------------------------------------------

def test_a_scheduled_batch_renders_a_cron_workflow_that_validates_against_its_crd():
    spec = completed(workload="batch")
    spec["batch"] = {**spec["batch"], "schedule": "0 3 * * *", "timezone": "Europe/Berlin"}
    (cron,) = manifests_render(spec, revision=2)
    assert validate_object(cron) == []
    assert cron["kind"] == "CronWorkflow" and cron["metadata"]["name"] == "nightly-batch"
    assert cron["spec"]["schedules"] == ["0 3 * * *"] and cron["spec"]["timezone"] == "Europe/Berlin"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    # Each Workflow Argo starts carries the deployment's labels, so its pods count and its runs are found.
    assert cron["spec"]["workflowMetadata"]["labels"]["gantry.io/deployment"] == "nightly-batch"
    plain = manifests_render(completed(workload="batch"), revision=2)[0]
    assert cron["spec"]["workflowSpec"] == plain["spec"]


def test_a_misspelt_cron_field_is_caught_by_the_crd():
    spec = completed(workload="batch")
    spec["batch"] = {**spec["batch"], "schedule": "@daily"}
    (cron,) = manifests_render(spec)
    cron["spec"]["schedules"] = ["every day"]
    assert validate_object(cron)
