"""The recommender against the seeded catalog (migration 0002), with the arithmetic done by hand."""

import pytest

from catalog.selectors import catalog_snapshot
from specs.cost import cost_estimate
from specs.recommend import cold_start_seconds, spec_advice, spec_complete
from tests.factories import batch_spec, online_spec
from tests.spec_helpers import validate

pytestmark = pytest.mark.usefixtures("team")


def complete(spec):
    result = validate(spec)
    assert result.ok, result.errors
    return spec_complete(result.spec, catalog=catalog_snapshot())


def _model(params, precision="bf16", fmt="tensorizer", uri="s3://models/m/model.tensors"):
    return {"uri": uri, "parameters_billions": params, "precision": precision, "format": fmt}


def test_cheapest_class_that_holds_the_model():
    # 8B bf16: 16 GB weights × 1.2 + 2 GB = 21.2 GB. In LAS1 the 16 GB classes are too small and
    # RTX_A5000 (24 GB, $0.77) is the cheapest that fits.
    spec, notes = complete(online_spec())
    assert spec["compute"]["gpu_class"] == "RTX_A5000"
    assert spec["compute"]["gpus_per_replica"] == 1
    why = next(n for n in notes if n["field"] == "compute.gpu_class")["reason"]
    assert "21 GB" in why and "$0.77/hour" in why
    # 3B int8 needs 5.6 GB: the 8 GB Quadro_RTX_4000 ($0.24) is enough.
    spec, _ = complete(online_spec(model=_model(3, "int8")))
    assert spec["compute"]["gpu_class"] == "Quadro_RTX_4000"


def test_multi_gpu_replicas_prefer_nvlink_classes():
    # 70B bf16 needs 170 GB: no single GPU in LAS1 holds it; 4 × A100_NVLINK_80GB ($10.80/h) beats
    # 4 × H100_NVLINK_80GB, and NVLink comes before price: 4 × A40 over PCIe ($5.12/h) is not picked.
    spec, notes = complete(online_spec(model=_model(70)))
    assert (spec["compute"]["gpu_class"], spec["compute"]["gpus_per_replica"]) == ("A100_NVLINK_80GB", 4)
    assert "NVLink" in next(n for n in notes if n["field"] == "compute.gpus_per_replica")["reason"]
    catalog = catalog_snapshot()
    assert catalog.gpus["A100_PCIE_80GB"].max_gpus == 1 and catalog.gpus["A40"].max_gpus == 2


def test_region_chosen_by_availability_when_left_out():
    # H200 is offered in RNO2 (192 free) and US-EAST-04 (256 free): the one with more free GPUs wins.
    spec, notes = complete(online_spec(compute={"gpu_class": "H200"}))
    assert spec["compute"]["region"] == "US-EAST-04"
    assert "availability" in next(n for n in notes if n["field"] == "compute.region")["reason"]


def test_region_without_a_fitting_class_points_to_one_that_has_it():
    # 175B bf16 needs 350 × 1.2 + 2 = 422 GB; LGA1 holds at most 8 × 48 = 384 GB even over PCIe.
    spec, notes = complete(online_spec(model=_model(175), compute={"region": "LGA1"}))
    problem = next(n for n in notes if n.get("error"))
    assert problem["error"] == "insufficient_gpu_memory" and problem["field"] == "compute.gpu_class"
    assert "LGA1" in problem["reason"] and "A100_NVLINK_80GB" in problem["reason"]
    assert "gpu_class" not in spec["compute"]


@pytest.mark.parametrize("model,tier", [
    (_model(3, "int8"), "object"),  # 3 GB on disk
    (_model(4, "bf16"), "object"),  # 8 GB: still under 10 GB
    (_model(5, "bf16"), "accelerated-object"),  # 10 GB
    (_model(8, "bf16", uri="pvc://models/llama/model.tensors"), "nvme-pvc"),
])
def test_storage_tier_thresholds(model, tier):
    spec, _ = complete(online_spec(model=model, target="kserve"))
    assert spec["storage"]["tier"] == tier
    if tier == "nvme-pvc":
        assert spec["storage"]["pvc_size_gi"] == 50  # twice 16 GB is under the 50 Gi floor


def test_tensorizer_advice_and_cold_start_range():
    catalog = catalog_snapshot()
    spec, _ = complete(online_spec())
    # 16 GB through accelerated object storage at 4 GB/s: 10 + 4 s to 30 + 8 s.
    assert cold_start_seconds(spec, catalog) == (14, 38)
    assert spec_advice(spec, catalog) == []
    spec, _ = complete(online_spec(model=_model(8, fmt="safetensors", uri="s3://models/m/model.safetensors")))
    # Without Tensorizer: at most 1 GB/s, up to twice slower: 10 + 16 s to 30 + 32 s.
    assert cold_start_seconds(spec, catalog) == (26, 62)
    advice = spec_advice(spec, catalog)
    assert [a["code"] for a in advice] == ["use_tensorizer"] and "26–62 s" in advice[0]["message"]


@pytest.mark.parametrize("tolerance,pct,min_replicas", [("strict", 70, 1), ("moderate", 85, 0), ("relaxed", 95, 0)])
def test_latency_tolerance_maps_to_utilization(tolerance, pct, min_replicas):
    spec, _ = complete(online_spec(scaling={"latency_tolerance": tolerance}))
    assert spec["scaling"]["target_utilization_percent"] == pct
    assert spec["scaling"]["min_replicas"] == min_replicas
    assert ("scale_to_zero_retention" in spec["scaling"]) is (min_replicas == 0)


def test_user_choices_are_kept():
    spec, notes = complete(online_spec(compute={"gpu_class": "A40", "gpus_per_replica": 2, "region": "ORD1",
                                                "cpu": 6, "memory_gi": 40},
                                       scaling={"min_replicas": 1, "max_replicas": 3, "target_utilization_percent": 60}))
    assert spec["compute"] == {"gpu_class": "A40", "gpus_per_replica": 2, "region": "ORD1", "cpu": 6, "memory_gi": 40}
    assert spec["scaling"]["target_utilization_percent"] == 60
    # Only what the user left out is explained: the tier, its endpoint and the target concurrency.
    assert [n["field"] for n in notes] == ["storage.tier", "storage.endpoint", "scaling.target_concurrency"]


def test_target_defaults_by_workload():
    assert complete(online_spec(target=None))[0]["target"] == "knative"
    assert complete(batch_spec())[0]["target"] == "argo"


def test_cost_online_by_hand():
    spec, _ = complete(online_spec(scaling={"min_replicas": 0, "max_replicas": 2}))
    # RTX_A5000 at $0.77: 0 to 2 replicas → $0–1.54 an hour, $0–1124.20 a month (730 h).
    cost = cost_estimate(spec, catalog=catalog_snapshot())
    assert cost["currency"] == "USD"
    assert (cost["per_hour_min"], cost["per_hour_max"]) == (0.0, 1.54)
    assert (cost["per_month_min"], cost["per_month_max"]) == (0.0, 1124.2)
    spec, _ = complete(online_spec(model=_model(70), scaling={"min_replicas": 1, "max_replicas": 3}))
    # 4 × A100_NVLINK_80GB at $2.70 = $10.80 per replica-hour.
    cost = cost_estimate(spec, catalog=catalog_snapshot())
    assert (cost["per_hour_min"], cost["per_hour_max"]) == (10.8, 32.4)
    assert (cost["per_month_min"], cost["per_month_max"]) == (7884.0, 23652.0)


def test_cost_of_one_batch_run_by_hand():
    spec, _ = complete(batch_spec())
    # 2 shards × 1 × RTX_A5000 ($0.77) for at most 30 minutes = $0.77.
    cost = cost_estimate(spec, catalog=catalog_snapshot())
    assert cost["per_hour_max"] == 1.54 and cost["per_run_max"] == 0.77 and cost["per_hour_min"] == 0.0


# --- tensor parallelism over PCIe, the KV cache estimate, CPU nodes (issue 14) ---------------------------------


def test_without_nvlink_in_the_region_tensor_parallelism_goes_over_pcie_with_a_warning():
    # 70B bf16 needs 170 GB. LGA1 has no class that links enough GPUs with NVLink (A40 and RTX_A6000 link pairs:
    # 96 GB). Over PCIe, 4 × A40 (192 GB, $5.12/h) ties 4 × RTX_A6000 and wins by name; the note points to
    # RNO2, which has the most A100_NVLINK_80GB free (192), the cheapest NVLink fit (4 × $2.70).
    spec, notes = complete(online_spec(model=_model(70), compute={"region": "LGA1"}))
    assert (spec["compute"]["gpu_class"], spec["compute"]["gpus_per_replica"]) == ("A40", 4)
    why = {n["field"]: n["reason"] for n in notes}
    assert "over PCIe" in why["compute.gpu_class"] and "$5.12/hour" in why["compute.gpu_class"]
    assert "links at most 2 with NVLink" in why["compute.gpus_per_replica"]
    assert "RNO2 has 4 × A100_NVLINK_80GB with NVLink" in why["compute.gpus_per_replica"]
    warnings = validate(spec).warnings
    assert [(w.code, w.field) for w in warnings] == [("tensor_parallel_over_pcie", "compute.gpus_per_replica")]
    assert "all-reduce" in warnings[0].message and "pairs of A40" in warnings[0].message


def test_a_pcie_class_the_user_names_gets_several_gpus():
    # 4 × H100_PCIE (80 GB each): 2 hold 160 GB < 170 GB, 4 hold 320 GB; $4.25 × 4 = $17.00 an hour.
    spec, notes = complete(online_spec(model=_model(70), compute={"gpu_class": "H100_PCIE", "region": "LAS1"}))
    assert spec["compute"]["gpus_per_replica"] == 4
    assert cost_estimate(spec, catalog=catalog_snapshot())["per_hour_max"] == 34.0  # 2 replicas


def test_kv_cache_estimated_without_the_architecture_picks_a_roomier_class():
    # 8B bf16 at 32k context, no architecture: 138,764 B/token × 32,768 = 4.55 GB of KV cache (estimate);
    # (16 + 4.55 + 1.6 + 2) / 0.9 = 26.8 GB: RTX_A5000 (24 GB) is too small; A40 (48 GB, $1.28) ties RTX_A6000
    # and wins by name.
    spec, notes = complete(online_spec(serving={"max_context_tokens": 32768}))
    assert spec["compute"]["gpu_class"] == "A40"
    why = {n["field"]: n["reason"] for n in notes}
    assert "about 27 GB" in why["compute.gpu_class"]
    assert "4.5 GB of KV cache (estimated from the parameter count) for 32768 tokens" in why["compute.gpu_class"]
    # 48 × 0.9 − 17.6 − 2 = 23.6 GB free / 138,764 B = 170,072 tokens.
    assert "about 170072 tokens" in why["serving.max_context_tokens"] and "estimate" in why["serving.max_context_tokens"]
    advice = {a["code"]: a for a in spec_advice(spec, catalog_snapshot())}
    message = advice["kv_cache_not_counted"]["message"]
    assert "estimate" in message and "139 kB per token" in message and "`model.family`" in message
    # With the architecture the advice goes away.
    exact = {**spec, "model": {**spec["model"], "layers": 32, "kv_heads": 8, "head_dim": 128}}
    assert "kv_cache_not_counted" not in {a["code"] for a in spec_advice(exact, catalog_snapshot())}


def _small(tolerance="relaxed", **compute):
    model = _model(1, uri="s3://models/tiny/model.tensors")
    return online_spec(model=model, compute={"region": "LAS1", **compute},
                       scaling={"min_replicas": 0, "max_replicas": 2, "latency_tolerance": tolerance})


def test_cpu_nodes_are_offered_as_advice_for_a_small_model_with_relaxed_latency():
    # 1B bf16: 2 GB of weights; 2 × 1.2 + 2 = 4.4 GB → Quadro_RTX_4000 (8 GB, $0.24). On CPU: 8 vCPU × $0.01 +
    # max(8, ceil(4.4 × 1.5) = 7) = 8 GiB × $0.005 = $0.12 an hour.
    spec, _ = complete(_small())
    assert spec["compute"]["gpu_class"] == "Quadro_RTX_4000" and "accelerator" not in spec["compute"]
    advice = {a["code"]: a for a in spec_advice(spec, catalog_snapshot())}
    message = advice["cpu_nodes_suffice"]["message"]
    assert advice["cpu_nodes_suffice"]["field"] == "compute.accelerator"
    assert "$0.12/hour per replica instead of $0.24" in message and "`compute.accelerator` to `cpu`" in message
    for not_offered in (_small("moderate"), online_spec(model=_model(3), scaling={"latency_tolerance": "relaxed"})):
        spec, _ = complete(not_offered)  # a stricter tolerance, or 6 GB of weights (over the 2 GB threshold)
        assert "cpu_nodes_suffice" not in {a["code"] for a in spec_advice(spec, catalog_snapshot())}


def test_cpu_chosen_by_the_user_gets_vcpus_ram_and_a_cpu_price():
    spec, notes = complete(_small(accelerator="cpu"))
    assert spec["compute"] == {"accelerator": "cpu", "region": "LAS1", "cpu": 8, "memory_gi": 8}
    assert {"compute.cpu", "compute.memory_gi"} <= {n["field"] for n in notes}
    assert "cpu_nodes_suffice" not in {a["code"] for a in spec_advice(spec, catalog_snapshot())}
    assert validate(spec).ok
    cost = cost_estimate(spec, catalog=catalog_snapshot())
    # $0.12 per replica-hour × 0–2 replicas; × 730 hours = $175.20 a month at most.
    assert (cost["per_hour_min"], cost["per_hour_max"], cost["per_month_max"]) == (0.0, 0.24, 175.2)
    assert "8 vCPU at $0.01/vCPU-hour + 8 GiB at $0.005/GB-hour" in cost["basis"]  # specs/formats.py money_rate
    # Left out, the region is the first available one (CPU nodes are everywhere; capacity is not tracked).
    spec, notes = complete(_small(accelerator="cpu") | {"compute": {"accelerator": "cpu"}})
    assert spec["compute"]["region"] == "EU-SOUTH-03"


def test_cpu_batch_run_costs_vcpus_and_ram_by_hand():
    spec, _ = complete(batch_spec(compute={"accelerator": "cpu", "region": "LAS1", "cpu": 4, "memory_gi": 40}))
    # 4 × $0.01 + 40 × $0.005 = $0.24 per pod-hour; 2 shards for at most 30 minutes = $0.24 per run.
    cost = cost_estimate(spec, catalog=catalog_snapshot())
    assert (cost["per_hour_max"], cost["per_run_max"]) == (0.48, 0.24)
