"""Every error and warning code of SPEC.md: triggered, with its field and a message that says how to fix it."""

import copy

import pytest

from specs.secrets import looks_like_secret
from tests.factories import batch_spec, online_spec
from tests.spec_helpers import validate

pytestmark = pytest.mark.django_db


def _with(spec, path, value):
    spec = copy.deepcopy(spec)
    *parents, last = path.split(".")
    node = spec
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return spec


def _codes(issues):
    return [(i.code, i.field) for i in issues]


def test_valid_specs_have_no_errors(team):
    for spec in (online_spec(), batch_spec()):
        result = validate(spec)
        assert result.errors == [] and result.ok
    assert validate(online_spec()).spec["runtime"]["port"] == 8080


ERRORS = [
    ("name", "Llama_Chat", "invalid_name", "name", "DNS-1123"),
    ("name", "x" * 41, "invalid_name", "name", "1-40"),
    ("team", "nobody", "unknown_team", "team", "team you belong to"),
    ("compute.gpu_class", "TPU_V5", "unknown_gpu_class", "compute.gpu_class", "leave it out"),
    ("compute.region", "MARS1", "unknown_region", "compute.region", "LAS1"),
    ("compute.gpu_class", "H200", "gpu_not_in_region", "compute.gpu_class", "RNO2"),
    ("scaling.scale_to_zero_retention", "2h", "scale_to_zero_retention_too_long",
     "scaling.scale_to_zero_retention", "at most 1h"),
    ("scaling.min_replicas", 5, "invalid_replicas", "scaling.min_replicas", "above `scaling.max_replicas`"),
    ("scaling.max_replicas", 0, "invalid_replicas", "scaling.max_replicas", "between 1 and 1000"),
    ("runtime.image", "", "missing_image", "runtime.image", "tag or digest"),
    ("runtime.image", "ghcr.io/acme/llm-server", "missing_image", "runtime.image", "explicit tag or digest"),
    ("runtime.env", {"HF_TOKEN": "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345"}, "plaintext_secret",
     "runtime.env.HF_TOKEN", "runtime.secret_env"),
    ("runtime.env", {"DB_PASSWORD": "hunter2"}, "plaintext_secret", "runtime.env.DB_PASSWORD", "Kubernetes Secret"),
    ("runtime.secret_env", {"HF_TOKEN": "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345"}, "plaintext_secret",
     "runtime.secret_env.HF_TOKEN", "<secret name>/<key>"),
    ("runtime.secret_env", {"HF_TOKEN": "just-a-name"}, "invalid_secret_ref", "runtime.secret_env.HF_TOKEN",
     "<secret name>/<key>"),
    ("storage.credentials_secret", "AKIAIOSFODNN7EXAMPLE", "plaintext_secret", "storage.credentials_secret",
     "give only its name"),
    ("runtime.timeout_seconds", 900, "request_timeout_too_long", "runtime.timeout_seconds", "`workload` to `batch`"),
    ("models_per_gpu", 3, "bin_packing", "models_per_gpu", "pick the right GPU"),
    ("storage.tier", "nvme-pvc", "storage_mismatch", "storage.tier", "pvc://"),
    ("model.uri", "http://example.com/model.bin", "invalid_model_uri", "model.uri", "s3://"),
    ("scaling.latency_tolerance", "whatever", "invalid_value", "scaling.latency_tolerance", "strict"),
    ("runtime.colour", "blue", "unknown_field", "runtime.colour", "not a v1 spec field"),
]


@pytest.mark.parametrize("path,value,code,field,hint", ERRORS, ids=[f"{e[2]}:{e[0]}" for e in ERRORS])
def test_each_error_has_code_field_and_a_fix(team, path, value, code, field, hint):
    result = validate(_with(online_spec(), path, value))
    matching = [e for e in result.errors if e.code == code]
    assert matching, _codes(result.errors)
    assert matching[0].field == field
    assert hint in matching[0].message


def test_insufficient_gpu_memory_says_how_many_gpus_would_do(team):
    spec = _with(online_spec(), "compute", {"gpu_class": "A100_NVLINK", "gpus_per_replica": 1, "region": "LAS1"})
    spec["model"]["parameters_billions"] = 70
    error = next(e for e in validate(spec).errors if e.code == "insufficient_gpu_memory")
    assert error.field == "compute.gpu_class"
    assert "170 GB" in error.message and "40 GB" in error.message and "use 8 GPUs per replica" in error.message


@pytest.mark.parametrize("gpu_class, gpus, warned, why", [
    ("H100_PCIE", 2, True, "its GPUs have no NVLink"),
    ("A40", 2, False, None),                          # one NVLink-bridged pair
    ("A40", 4, True, "NVLink bridges link only pairs of A40"),
    ("A100_NVLINK_80GB", 8, False, None),
])
def test_tensor_parallelism_over_pcie_is_allowed_with_a_warning(team, gpu_class, gpus, warned, why):
    spec = _with(online_spec(), "compute", {"gpu_class": gpu_class, "gpus_per_replica": gpus, "region": "LAS1"})
    result = validate(spec)
    assert result.ok, result.errors
    warnings = [w for w in result.warnings if w.code == "tensor_parallel_over_pcie"]
    assert bool(warnings) is warned
    if warned:
        assert warnings[0].field == "compute.gpus_per_replica"
        assert why in warnings[0].message and "PCIe" in warnings[0].message and "throughput" in warnings[0].message


def test_insufficient_gpu_memory_with_an_estimated_kv_cache_says_how_to_make_it_exact(team):
    # 8B at 32k without the architecture: about 27 GB (tests/specs/test_memory.py); one RTX_A5000 has 24.
    spec = _with(online_spec(), "compute", {"gpu_class": "RTX_A5000", "gpus_per_replica": 1, "region": "LAS1"})
    spec["serving"] = {"max_context_tokens": 32768}
    error = next(e for e in validate(spec).errors if e.code == "insufficient_gpu_memory")
    assert "27 GB" in error.message and "estimated" in error.message and "`model.family`" in error.message
    assert "use 2 GPUs per replica" in error.message and "PCIe" not in error.message  # RTX_A5000 pairs
    spec["compute"]["gpu_class"] = "RTX_A4000"  # 16 GB, no NVLink: 2 hold 32 GB, over PCIe
    error = next(e for e in validate(spec).errors if e.code == "insufficient_gpu_memory")
    assert "use 2 GPUs per replica (over PCIe: slower)" in error.message


def _cpu(**compute):
    spec = online_spec(model={"uri": "s3://models/tiny/", "parameters_billions": 1, "format": "safetensors"})
    spec["compute"] = {"accelerator": "cpu", "region": "LAS1", **compute}
    return spec


def test_cpu_nodes_validate_without_gpu_fields(team):
    result = validate(_cpu(cpu=8, memory_gi=8))
    assert result.ok, result.errors
    assert result.spec["compute"]["accelerator"] == "cpu"


@pytest.mark.parametrize("field, value", [("gpu_class", "A40"), ("gpus_per_replica", 1)])
def test_cpu_nodes_refuse_a_gpu_field_by_name(team, field, value):
    errors = validate(_cpu(**{field: value})).errors
    assert [(e.code, e.field) for e in errors] == [("accelerator_mismatch", f"compute.{field}")]
    assert f"`compute.{field}` applies to GPU nodes" in errors[0].message


def test_cpu_nodes_need_ram_for_the_model(team):
    # 1B bf16: 2 × 1.2 + 2 = 4.4 GB; 4 GiB = 4.29 GB is short; 4.4 / 1.0737 = 4.1 → at least 5 GiB.
    errors = validate(_cpu(memory_gi=4)).errors
    assert [(e.code, e.field) for e in errors] == [("insufficient_memory", "compute.memory_gi")]
    assert "4.4 GB of RAM" in errors[0].message and "at least 5 GiB" in errors[0].message
    assert validate(_cpu(memory_gi=5)).ok


def test_an_unknown_accelerator_is_refused(team):
    errors = validate(_cpu() | {"compute": {"accelerator": "tpu"}}).errors
    assert [(e.code, e.field) for e in errors] == [("invalid_value", "compute.accelerator")]
    assert "gpu, cpu" in errors[0].message


def test_unknown_team_for_a_user_who_is_not_a_member(team, outsider, owner, staff):
    assert [e.code for e in validate(online_spec(), user=outsider).errors] == ["unknown_team"]
    assert validate(online_spec(), user=owner).ok
    assert validate(online_spec(), user=staff).ok


WARNINGS = [
    ("request_queue", True, "request_queue_discouraged", "request_queue", "autoscaling"),
    ("region_preference", "closest-to-users", "region_by_proximity", "region_preference", "GPU availability"),
    ("model.uri", "pvc://models/llama/model.tensors", "pvc_needs_feature_flag", "model.uri",
     "kubernetes.podspec-persistent-volume-claim"),
]


@pytest.mark.parametrize("path,value,code,field,hint", WARNINGS, ids=[w[2] for w in WARNINGS])
def test_each_warning_never_blocks(team, path, value, code, field, hint):
    result = validate(_with(online_spec(), path, value))
    assert result.errors == []
    warning = next(w for w in result.warnings if w.code == code)
    assert warning.field == field and hint in warning.message


def test_pvc_on_kserve_does_not_warn(team):
    spec = _with(online_spec(target="kserve"), "model.uri", "pvc://models/llama/model.tensors")
    assert "pvc_needs_feature_flag" not in [w.code for w in validate(spec).warnings]


def test_batch_rules(team):
    result = validate(_with(batch_spec(target="knative"), "batch.inputs_uri", None))
    assert ("invalid_value", "target") in _codes(result.errors)
    assert ("invalid_value", "batch.inputs_uri") in _codes(result.errors)
    result = validate(_with(batch_spec(), "scaling", {"min_replicas": 0}))
    assert result.ok and ("ignored_field", "scaling") in _codes(result.warnings)
    assert "scaling" not in result.spec and result.spec["target"] == "argo"


def test_secret_references_are_accepted(team):
    spec = _with(online_spec(), "runtime.secret_env", {"HF_TOKEN": "hf-token/token", "KEY": "s3.creds/access_key"})
    spec["runtime"]["env"] = {"LOG_LEVEL": "info", "MODEL_NAME": "meta-llama/Llama-3-8B-Instruct"}
    assert validate(spec).ok


@pytest.mark.parametrize("value,secret", [
    ("hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345", True),
    ("sk-proj-abc123", True),
    ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", True),
    ("-----BEGIN PRIVATE KEY-----", True),
    ("s3-creds", False),
    ("info", False),
    ("meta-llama/Llama-3-8B-Instruct", False),
    ("https://example.com/v1", False),
])
def test_looks_like_secret(value, secret):
    assert looks_like_secret(value) is secret


def test_not_an_object():
    result = validate(["nope"])
    assert [e.code for e in result.errors] == ["invalid_value"]


def test_our_own_api_keys_and_hex_tokens_are_secrets():
    from teams.models import ApiToken

    assert looks_like_secret(ApiToken.generate_key())
    assert looks_like_secret("d41d8cd98f00b204e9800998ecf8427e")


@pytest.mark.parametrize("kind, changes, field", [
    ("tgi", {}, "runtime.kind"),                                              # TGI cannot read s3:// itself
    ("vllm", {"model.format": "safetensors"}, "model.format"),                # vLLM streams s3:// only via Tensorizer
    ("vllm", {"workload": "batch"}, "runtime.kind"),                          # a batch run is a custom image
])
def test_a_runtime_that_could_not_load_the_model_is_refused(kind, changes, field):
    spec = batch_spec() if changes.get("workload") == "batch" else online_spec()
    spec["runtime"]["kind"] = kind
    if "model.format" in changes:
        spec["model"]["format"] = changes["model.format"]
        spec["model"]["uri"] = "s3://models/llama-3-8b/"
    assert field in [e.field for e in validate(spec).errors if e.code == "invalid_value"]


def test_runtimes_that_can_load_the_model_pass_and_get_a_startup_window(team):
    from tests.spec_helpers import complete

    spec = online_spec()
    spec["runtime"]["kind"] = "vllm"
    assert validate(spec).ok
    completed, notes = complete(validate(spec).spec)
    assert 60 <= completed["runtime"]["startup_timeout_seconds"] <= 600
    assert any(n["field"] == "runtime.startup_timeout_seconds" for n in notes)
    spec["target"] = "kserve"
    spec["runtime"]["kind"] = "tgi"
    assert validate(spec).ok  # KServe downloads the model first
    spec["runtime"]["health_path"] = "has space"
    assert [e.field for e in validate(spec).errors] == ["runtime.health_path"]
