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


def test_multi_gpu_replicas_only_on_nvlink_classes():
    # 70B bf16 needs 170 GB: no single GPU in LAS1 holds it; 4 × A100_NVLINK_80GB ($10.80/h) beats
    # 4 × H100_NVLINK_80GB, and the PCIe classes never get more than one GPU.
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
    # LGA1's biggest class is 48 GB without NVLink: 70B cannot run there.
    spec, notes = complete(online_spec(model=_model(70), compute={"region": "LGA1"}))
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
    assert [n["field"] for n in notes] == ["storage.tier"]


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
