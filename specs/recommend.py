"""Fill in what the user left out of a spec, and say why: the GPU, region, storage tier and scaling.

Pure functions over a catalog snapshot (catalog.selectors.catalog_snapshot() is
the one place that reads the database), so the same spec always gets the same answer.

The numbers, documented once:
- GPU memory: specs/memory.py (weights, the KV cache for the stated context, overhead).
- A replica uses 1, 2, 4 or 8 GPUs (tensor parallel sizes). Options whose GPUs are all
  linked by NVLink (any count on full-mesh classes, 2 on classes with NVLink bridges in
  pairs, 1 elsewhere) come first, cheapest first; only when none fits are more GPUs over
  PCIe offered (tensor parallelism then all-reduces over PCIe: allowed, with the warning
  `tensor_parallel_over_pcie` from the validator).
- CPU nodes (specs/cpu.py): used when the user sets `compute.accelerator: cpu`; offered as
  advice (`cpu_nodes_suffice`) for small models with a relaxed latency tolerance.
- Storage: under 10 GB on disk plain object storage is enough; larger models
  go on accelerated object storage; `pvc://` URIs mean an NVMe volume.
- Target utilization by latency tolerance: strict 70 % (stock Knative, more
  headroom so p95 stays low), moderate 85 % (CoreWeave's platform default),
  relaxed 95 % (fewest replicas, cheapest; p95 suffers under bursts).
"""

import copy
import math

from .cost import cpu_replica_rate, replica_rate
from .cpu import DEFAULT_VCPUS, cpu_memory_gi, cpu_suffices, on_cpu
from .formats import money_rate
from .memory import (
    BYTES_PER_PARAMETER,
    kv_per_token,
    largest_context,
    memory_breakdown,
    weights_gb,
)
from .runtimes import default_target_concurrency
from .schema import spec_field

GPU_COUNTS = (1, 2, 4, 8)
SMALL_MODEL_GB = 10.0
TARGET_UTILIZATION = {"strict": 70, "moderate": 85, "relaxed": 95}
DEFAULT_RETENTION = "30m"  # CoreWeave's platform default; Knative allows at most 1h
DEFAULT_MAX_REPLICAS = 2
# Seconds before loading starts (scheduling, image already cached, process start): a range.
STARTUP_SECONDS = (10, 30)
# Without Tensorizer, weights are read then deserialized: at most ~1 GB/s, and up to twice slower.
PLAIN_LOAD_GBPS = 1.0
CPU_PER_GPU = 4
# Knative Serving's default progress deadline (config-deployment): the schema's bound for the startup probe.
STARTUP_TIMEOUT_MAX = spec_field("runtime.startup_timeout_seconds").maximum


def gpu_options(catalog, need_gb, *, region=None, gpu_name=None, gpus=None):
    """Every (gpu, count, region) that holds need_gb: all GPUs linked by NVLink first, then over PCIe; within
    each, cheapest first, then most GPUs free."""
    options = []
    for code, info in catalog.regions.items():
        if not info.available or (region and code != region):
            continue
        for name, free in info.offerings.items():
            gpu = catalog.gpus.get(name)
            if gpu is None or not gpu.available or (gpu_name and name != gpu_name):
                continue
            for count in GPU_COUNTS if gpus is None else (gpus,):
                if count <= free and gpu.vram_gb * count >= need_gb:
                    options.append((count > gpu.max_gpus, gpu.price * count, count, -free, name, code))
                    break
    options.sort()
    return [(catalog.gpus[name], count, code) for _, _, count, _, name, code in options]


def over_pcie(gpu, count):
    """More GPUs in one replica than the class links with NVLink: tensor parallelism all-reduces over PCIe."""
    return count > gpu.max_gpus


def region_alternatives(catalog, gpu_name):
    """Regions that offer a class and take new deployments, most GPUs free first (choose by availability)."""
    found = [(-info.offerings[gpu_name], code) for code, info in catalog.regions.items()
             if info.available and not info.draining and gpu_name in info.offerings]
    return [code for _, code in sorted(found)]


# A draining cluster is being emptied (for maintenance, a move, its retirement): what runs there stays, but a new
# deployment placed there would have to move again, so its regions count no free GPUs (catalog.selectors).
DRAINING = "its cluster is being drained: it keeps running the deployments it has but takes no new ones"


def draining_regions(catalog, gpu_name=None):
    """The available regions whose cluster is draining (those offering `gpu_name`, when given), sorted."""
    return sorted(code for code, info in catalog.regions.items()
                  if info.available and info.draining and (gpu_name is None or gpu_name in info.offerings))


def _left_out(codes):
    """The sentence naming the regions the recommender did not use because they drain, or ""."""
    if not codes:
        return ""
    return f" {', '.join(codes)} {'is' if len(codes) == 1 else 'are'} left out: {DRAINING}."


def _explain(out, field, value, reason):
    out.append({"field": field, "value": value, "reason": reason})


def spec_complete(spec, *, catalog):
    """(completed spec, explanations). Explanations carrying an `error` code mean nothing could be chosen."""
    spec = copy.deepcopy(spec)
    notes = []
    model = spec.setdefault("model", {})
    params, precision = model.get("parameters_billions"), model.get("precision", "bf16")
    if not isinstance(params, (int, float)) or precision not in BYTES_PER_PARAMETER:
        return spec, notes
    size = weights_gb(params, precision)
    _complete_architecture(model, catalog, notes)
    _complete_compute(spec, catalog, memory_breakdown(spec), notes)
    _explain_context_room(spec, catalog, notes)
    _complete_storage(spec, size, notes)
    _complete_endpoint(spec, catalog, notes)
    if spec.get("workload") == "online":
        _complete_scaling(spec, catalog, notes)
        _complete_startup(spec, catalog, notes)
    elif spec.get("workload") == "batch":
        batch = spec.setdefault("batch", {})
        batch.setdefault("parallelism", 1)
        batch.setdefault("timeout_minutes", 60)
        batch.setdefault("retries", 2)
    access = spec.setdefault("access", {})
    access.setdefault("visibility", "public")
    access.setdefault("cross_cloud_clients", False)
    spec.setdefault("request_queue", False)
    spec.setdefault("models_per_gpu", 1)
    spec.setdefault("region_preference", "best-availability")
    return spec, notes


def architecture_fill(model, catalog, family_name=None):
    """Fill in the layers, KV heads and head dimension of a catalog model family the user left out;
    the family, or None. `family_name`: when `model` itself does not carry it."""
    name = family_name if family_name is not None else model.get("family")
    family = catalog.families.get(name) if isinstance(name, str) else None
    if family is not None:
        for key in ("layers", "kv_heads", "head_dim"):
            model.setdefault(key, getattr(family, key))
    return family


def _complete_architecture(model, catalog, notes):
    """A model family from the catalog brings its layers, KV heads and head dimension."""
    family = architecture_fill(model, catalog)
    if family is None:
        return
    _explain(notes, "model.layers", model["layers"], f"{family.name}: {family.layers} layers, {family.kv_heads} KV "
             f"heads of dimension {family.head_dim} (the catalog's model families), for the KV cache.")


def _explain_context_room(spec, catalog, notes):
    """How much context one sequence could have on the chosen GPUs: with the architecture known, or estimated
    from the size when a context is stated."""
    compute = spec.get("compute") or {}
    gpu = catalog.gpus.get(compute.get("gpu_class"))
    context = (spec.get("serving") or {}).get("max_context_tokens")
    _per_token, estimated = kv_per_token(spec.get("model") or {})
    if gpu is None or not compute.get("gpus_per_replica") or (estimated and not context):
        return
    room = largest_context(spec, gpu.vram_gb * compute["gpus_per_replica"])
    if room is not None:
        _explain(notes, "serving.max_context_tokens", context,
                 f"{compute['gpus_per_replica']} × {gpu.name} hold the weights and a KV cache of about {room} "
                 "tokens for one sequence (shared by the sequences served at once)"
                 + (", by the estimate from the parameter count." if estimated else "."))


def _complete_compute(spec, catalog, memory, notes):
    compute = spec.setdefault("compute", {})
    if on_cpu(spec):
        _complete_cpu(compute, catalog, memory, notes)
        return
    region, gpu_name, gpus = compute.get("region"), compute.get("gpu_class"), compute.get("gpus_per_replica")
    if not (gpu_name and gpus and region):
        _choose_gpu(compute, catalog, memory, notes, spec.get("serving") or {})
    if compute.get("gpus_per_replica"):
        size = spec["model"]["parameters_billions"] * BYTES_PER_PARAMETER[spec["model"].get("precision", "bf16")]
        compute.setdefault("cpu", CPU_PER_GPU * compute["gpus_per_replica"])
        compute.setdefault("memory_gi", max(16 * compute["gpus_per_replica"], math.ceil(size * 1.5)))


def _complete_cpu(compute, catalog, memory, notes):
    """CPU nodes (specs/cpu.py): vCPUs, RAM for the model, and a region (every region has CPU nodes)."""
    if "cpu" not in compute:
        compute["cpu"] = DEFAULT_VCPUS
        _explain(notes, "compute.cpu", DEFAULT_VCPUS, f"{DEFAULT_VCPUS} vCPUs per replica on CPU nodes: generation "
                 "is bound by memory bandwidth, which a few cores already use.")
    if "memory_gi" not in compute:
        compute["memory_gi"] = cpu_memory_gi(memory["total_gb"])
        _explain(notes, "compute.memory_gi", compute["memory_gi"], f"The model needs about "
                 f"{memory['total_gb']:.1f} GB of RAM (weights, KV cache and runtime); half as much again for "
                 "reading the checkpoint while it loads (at least 8 GiB).")
    if "region" not in compute:
        # The catalog records GPU capacity only; CPU nodes are in every region.
        code = next((c for c, r in sorted(catalog.regions.items()) if r.available and not r.draining), None)
        if code:
            compute["region"] = code
            _explain(notes, "compute.region", code, f"CPU nodes are in every region and the catalog does not track "
                     f"their capacity: {code} is the first available region; set `compute.region` to choose."
                     + _left_out([c for c in draining_regions(catalog) if c < code]))


def _memory_reason(memory, serving):
    if not memory["kv_counted"]:
        return (f"The model needs about {memory['total_gb']:.0f} GB of GPU memory (weights plus 20 % for activations "
                "and KV cache, plus 2 GB runtime)")
    sequences = serving.get("max_concurrent_sequences") or 1
    kv = "KV cache (estimated from the parameter count)" if memory["kv_estimated"] else "KV cache"
    return (f"The model needs about {memory['total_gb']:.0f} GB of GPU memory: {memory['weights_gb']:.1f} GB of "
            f"weights, {memory['kv_cache_gb']:.1f} GB of {kv} for {serving['max_context_tokens']} tokens × "
            f"{sequences} sequence{'' if sequences == 1 else 's'}, {memory['overhead_gb']:.1f} GB for activations, "
            "the runtime and the 10 % "
            "the server leaves free")


def _choose_gpu(compute, catalog, memory, notes, serving):
    need = memory["total_gb"]
    region, gpu_name, gpus = compute.get("region"), compute.get("gpu_class"), compute.get("gpus_per_replica")
    options = gpu_options(catalog, need, region=region, gpu_name=gpu_name, gpus=gpus)
    if not options:
        wanted = f"{gpu_name} " if gpu_name else "a GPU class "
        where = f"in {region}" if region else "in any region"
        elsewhere = gpu_options(catalog, need, gpu_name=gpu_name, gpus=gpus) if region else []
        hint = (f" {elsewhere[0][2]} has {elsewhere[0][1]} × {elsewhere[0][0].name}; choose that region or leave "
                "`compute.region` out." if elsewhere else " Use a lower precision (int8, int4) or a smaller model.")
        reason = (f"The model needs about {need:.0f} GB of GPU memory and {wanted}with enough memory is not "
                  f"available {where}.")
        if region in draining_regions(catalog):
            reason = f"{region} takes no new deployments: {DRAINING}."
            hint = hint if elsewhere else " Choose another region or leave `compute.region` out."
        notes.append({"field": "compute.gpu_class", "value": None, "error": "insufficient_gpu_memory",
                      "reason": reason + hint})
        return
    gpu, count, code = options[0]
    pcie = over_pcie(gpu, count)
    if not gpu_name:
        compute["gpu_class"] = gpu.name
        fit = "the cheapest fit over PCIe (none with NVLink fits)" if pcie else "the cheapest fit"
        _explain(notes, "compute.gpu_class", gpu.name,
                 f"{_memory_reason(memory, serving)}; {count} × {gpu.name} ({gpu.vram_gb} GB each) is {fit}"
                 f"{' in ' + region if region else ''} at {money_rate(gpu.price * count)}/hour per replica.")
    if not gpus:
        compute["gpus_per_replica"] = count
        if count == 1:
            why = "one GPU holds the model"
        elif not pcie:
            why = f"one GPU is too small, and {gpu.name} links its GPUs with NVLink"
        else:
            why = (f"one GPU is too small and {gpu.name} links at most {gpu.max_gpus} with NVLink, so tensor "
                   f"parallelism runs over PCIe (slower: see the warning){_nvlink_elsewhere(catalog, need, region)}")
        _explain(notes, "compute.gpus_per_replica", count,
                 f"{count} GPU{'' if count == 1 else 's'} per replica: {why}.")
    if not region:
        compute["region"] = code
        _explain(notes, "compute.region", code, f"{code} has the most {gpu.name} GPUs free "
                 f"({catalog.regions[code].offerings[gpu.name]}). Regions are chosen by GPU availability, not "
                 "distance: generation time dwarfs network latency." + _left_out(draining_regions(catalog, gpu.name)))


def _nvlink_elsewhere(catalog, need, region):
    """Where the model fits on GPUs linked by NVLink, when the asked region has none: a hint, or ''."""
    if not region:
        return ""
    linked = [o for o in gpu_options(catalog, need) if not over_pcie(o[0], o[1])]
    return (f"; {linked[0][2]} has {linked[0][1]} × {linked[0][0].name} with NVLink (choose that region or leave "
            "`compute.region` out)" if linked else "")


def _complete_storage(spec, size, notes):
    storage = spec.setdefault("storage", {})
    uri = spec["model"].get("uri") or ""
    if "tier" not in storage:
        if uri.startswith("pvc://"):
            tier, why = "nvme-pvc", "the model is on a volume (`pvc://`): an all-NVMe PVC in the pods' region."
        elif size < SMALL_MODEL_GB:
            tier, why = "object", f"{size:.1f} GB on disk is small: plain object storage loads it quickly."
        else:
            tier, why = "accelerated-object", (f"{size:.0f} GB on disk is large: accelerated object storage "
                                               "caches it on NVMe near the GPUs.")
        storage["tier"] = tier
        _explain(notes, "storage.tier", tier, why[0].upper() + why[1:])
    if storage["tier"] == "nvme-pvc" and "pvc_size_gi" not in storage:
        storage["pvc_size_gi"] = max(50, math.ceil(size * 2))
        _explain(notes, "storage.pvc_size_gi", storage["pvc_size_gi"],
                 "Twice the model size (at least 50 Gi), so a new version fits next to the old one.")


def _complete_endpoint(spec, catalog, notes):
    """The region's endpoint for the tier: accelerated object storage reads through the node-local cache."""
    storage = spec["storage"]
    region = catalog.regions.get((spec.get("compute") or {}).get("region"))
    if "endpoint" in storage or region is None or not (spec["model"].get("uri") or "").startswith("s3://"):
        return
    endpoint = region.endpoints.get(storage.get("tier"))
    if endpoint:
        storage["endpoint"] = endpoint
        _explain(notes, "storage.endpoint", endpoint, f"The {storage['tier']} endpoint of {region.code} (the catalog)"
                 + (": reads go through the cache on the GPU nodes, so repeated cold starts load from NVMe."
                    if storage["tier"] == "accelerated-object" else "."))


def _complete_startup(spec, catalog, notes):
    """How long the startup probe waits: twice the slow end of the cold-start estimate, 1 to 10 minutes."""
    runtime = spec.setdefault("runtime", {})
    has_health_check = runtime.get("kind", "custom") != "custom" or runtime.get("health_path")
    if not has_health_check or runtime.get("startup_timeout_seconds") is not None:
        return
    _low, high = cold_start_seconds(spec, catalog)
    runtime["startup_timeout_seconds"] = min(STARTUP_TIMEOUT_MAX, max(60, 2 * high))
    _explain(notes, "runtime.startup_timeout_seconds", runtime["startup_timeout_seconds"],
             f"Loading the weights takes up to about {high} s; the startup probe allows twice that (at most "
             f"{STARTUP_TIMEOUT_MAX} s, Knative's default progress deadline) before the pod is restarted.")


def _complete_scaling(spec, catalog, notes):
    scaling = spec.setdefault("scaling", {})
    tolerance = scaling.setdefault("latency_tolerance", "moderate")
    if "target_utilization_percent" not in scaling:
        pct = TARGET_UTILIZATION[tolerance]
        scaling["target_utilization_percent"] = pct
        _explain(notes, "scaling.target_utilization_percent", pct,
                 f"A {tolerance} latency tolerance keeps each replica about {pct} % busy (strict 70 %, moderate 85 %, "
                 "the platform default; relaxed 95 %). Higher utilization means fewer replicas and a lower bill, at "
                 "the cost of p95 latency.")
    if "min_replicas" not in scaling:
        warm = tolerance == "strict"
        scaling["min_replicas"] = 1 if warm else 0
        low, high = cold_start_seconds(spec, catalog)
        _explain(notes, "scaling.min_replicas", scaling["min_replicas"],
                 f"One replica stays warm: a cold start ({low}–{high} s) would break strict latency." if warm else
                 f"Scales to zero when idle, so you pay nothing between uses; the first request after a pause "
                 f"waits for a cold start ({low}–{high} s).")
    scaling.setdefault("max_replicas", max(scaling["min_replicas"], DEFAULT_MAX_REPLICAS))
    if "target_concurrency" not in scaling:
        scaling["target_concurrency"], why = default_target_concurrency(spec)
        _explain(notes, "scaling.target_concurrency", scaling["target_concurrency"], why[0].upper() + why[1:] + ".")
    if scaling["min_replicas"] == 0 and "scale_to_zero_retention" not in scaling:
        scaling["scale_to_zero_retention"] = DEFAULT_RETENTION
        _explain(notes, "scaling.scale_to_zero_retention", DEFAULT_RETENTION,
                 f"The last pod stays warm for {DEFAULT_RETENTION} after traffic stops (the platform default; "
                 "Knative allows 1h at most), so short pauses do not cost a cold start.")
    spec.setdefault("runtime", {}).setdefault("timeout_seconds", 300)


def cold_start_seconds(spec, catalog):
    """(low, high) seconds from pod start to model loaded: startup plus size / load rate."""
    model = spec["model"]
    size = weights_gb(model["parameters_billions"], model.get("precision", "bf16"))
    rate = float(catalog.tiers.get((spec.get("storage") or {}).get("tier"), 0) or 0.5)
    if model.get("format") == "tensorizer":
        fast, slow = rate, rate / 2
    else:
        fast, slow = min(rate, PLAIN_LOAD_GBPS), min(rate, PLAIN_LOAD_GBPS) / 2
    return (STARTUP_SECONDS[0] + math.ceil(size / fast), STARTUP_SECONDS[1] + math.ceil(size / slow))


def spec_advice(spec, catalog):
    """Advice (never blocking) about a completed spec: list of {code, field, message}."""
    model = spec.get("model") or {}
    if not isinstance(model.get("parameters_billions"), (int, float)):
        return []
    size = weights_gb(model["parameters_billions"], model.get("precision", "bf16"))
    advice = []
    per_token, estimated = kv_per_token(model)
    if (spec.get("serving") or {}).get("max_context_tokens") and estimated:
        # The code predates the estimate; clients match on it, so it stays.
        advice.append({"code": "kv_cache_not_counted", "field": "model.layers", "message": (
            f"The KV cache is an estimate from the parameter count (about {per_token / 1000:.0f} kB per token, "
            "fitted to Llama 3 and Mistral, which share KV heads across attention heads; a model without that "
            "holds up to four times more). To count it exactly, name `model.family` from the catalog or give "
            "`model.layers`, `model.kv_heads` and `model.head_dim` from the model's config.json.")})
    if catalog.cpu and not on_cpu(spec) and cpu_suffices(spec):
        advice.append(_cpu_advice(spec, catalog, size))
    if size >= SMALL_MODEL_GB and model.get("format") != "tensorizer":
        low, high = cold_start_seconds(spec, catalog)
        advice.append({"code": "use_tensorizer", "field": "model.format", "message": (
            f"This {size:.0f} GB model takes {low}–{high} s to load. Serialize it with Tensorizer: large models "
            "then stream straight to the GPU in seconds, so scaling up and from zero is fast.")})
    return advice


def _cpu_advice(spec, catalog, size):
    """Small model, relaxed latency: CPU nodes would do, and what a replica would cost there."""
    ram = cpu_memory_gi(memory_breakdown(spec)["total_gb"])
    cpu_rate, basis = cpu_replica_rate(DEFAULT_VCPUS, ram, catalog=catalog)
    gpu_rate, gpu_basis = replica_rate(spec, catalog=catalog)
    return {"code": "cpu_nodes_suffice", "field": "compute.accelerator", "message": (
        f"This {size:.1f} GB model with a relaxed latency tolerance can run on CPU nodes: {basis} = "
        f"{money_rate(cpu_rate)}/hour per replica instead of {money_rate(gpu_rate)} ({gpu_basis}). Each generated "
        "token reads every weight from RAM, so answers come slower than on a GPU. Set `compute.accelerator` to "
        "`cpu` and leave `compute.gpu_class` and `compute.gpus_per_replica` out.")}
