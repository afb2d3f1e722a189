"""The v1 deployment spec (../shared/SPEC.md) and its one validator.

`spec_validate` checks the shape, the catalog references, the seed's rules and
the secret rules, and returns the spec normalised (plain defaults filled in).
What needs judgement (GPU, storage tier, utilization …) is left to
specs/recommend.py; run `spec_validate` again on the completed spec and every field
is checked, including that the GPU holds the model. The container checks (runtime, command, args,
env, and what a serving runtime can read) are specs/validation_runtime.py.
"""

from functools import cache
from zoneinfo import available_timezones

from teams.slugs import is_team_slug

from .checker import Checker, Issue, SpecResult, nul_paths
from .cpu import CPU, GB_PER_GIB, GPU_FIELDS, memory_gb
from .formats import CRON_RE, ENDPOINT_RE, NAME_RE, SECRET_NAME_RE, URI_RE, duration_seconds
from .memory import BYTES_PER_PARAMETER, memory_breakdown
from .recommend import (
    GPU_COUNTS,
    region_alternatives,
)
from .schema import SECTIONS, TOP_LEVEL, DeploymentSpec, section_fields, spec_field
from .secrets import looks_like_secret
from .validation_runtime import runtime_check, runtime_fits_check

ONLINE_ONLY = ("scaling", "batching", "serving")
MAX_RETENTION_SECONDS = 3600


def spec_validate(data: DeploymentSpec | dict, *, catalog, teams) -> "SpecResult":
    """Validate a v1 spec. Returns SpecResult(spec, errors, warnings); errors block, warnings never do.

    `catalog` is a catalog.snapshot.Catalog; `teams` the slugs of the teams the caller may deploy to.
    """
    if not isinstance(data, dict):
        return SpecResult({}, [Issue("invalid_value", None, "The spec must be a JSON object.")])
    # null means "left out": the recommender fills it in like a missing key.
    spec = {k: v for k, v in data.items() if k in TOP_LEVEL and v is not None}
    check = Checker(spec)
    for path in nul_paths(data):
        if path in ("name", "team"):
            continue  # their own checks refuse it (invalid_name, unknown_team)
        # PostgreSQL cannot store U+0000 in JSON: refuse it here rather than fail on save.
        check.error("invalid_value", path, f"`{path}` contains a NUL character (\\u0000); remove it.")
    for key in sorted(set(data) - TOP_LEVEL):
        check.error("unknown_field", key, f"`{key}` is not a v1 spec field; remove it or check the spelling.")

    _check_identity(check, spec, teams)
    workload = spec.get("workload")
    for section in SECTIONS:
        spec[section] = check.section(section)
    runtime_check(check, spec)
    _check_model_and_storage(check, spec, workload)
    _check_compute(check, spec, catalog)
    if workload == "online":
        _check_scaling(check, spec)
    elif workload == "batch":
        _check_batch(check, spec)
    _check_access_and_rules(check, spec, workload)
    runtime_fits_check(check, spec, workload)
    for section in SECTIONS:
        if not spec[section]:
            spec.pop(section)
    return SpecResult(spec, check.errors, check.warnings)


def _check_identity(check, spec, teams):
    name = spec.get("name")
    if not isinstance(name, str) or not (1 <= len(name) <= 40) or not NAME_RE.fullmatch(name):
        check.error("invalid_name", "name", "Use 1-40 lowercase letters, digits or '-', starting and ending "
                    "with a letter or digit (a DNS-1123 label), e.g. `llama-chat`.")
    team = spec.get("team")
    if not is_team_slug(team) or team not in teams:
        check.error("unknown_team", "team", f"`{team}` is not a team you belong to; pick one of your teams "
                    "(the slug shown on your dashboard).")
    workload = check.choice(spec, "workload")
    if workload is None:
        check.error("invalid_value", "workload", "`workload` is required: `online` for request/response "
                    "under a minute, `batch` for batch jobs or anything longer.")
    target = spec.get("target")
    if workload == "online":
        spec["target"] = check.choice(spec, "target", ("knative", "kserve"), default="knative")
    elif workload == "batch":
        if target not in (None, "argo"):
            check.error("invalid_value", "target", "Batch work always runs as an Argo Workflow; "
                        "leave `target` out (or set it to `argo`).")
        spec["target"] = "argo"


def _check_model_and_storage(check, spec, workload):
    model, storage = spec["model"], spec["storage"]
    uri = model.get("uri")
    if not isinstance(uri, str) or not URI_RE.fullmatch(uri):
        check.error("invalid_model_uri", "model.uri", "Give where the checkpoint lives: "
                    "`s3://<bucket>/<path>` or `pvc://<claim>/<path>`.")
        uri = None
    if model.get("parameters_billions") is None:
        check.error("invalid_value", "model.parameters_billions", "Give the model size in billions of "
                    "parameters (e.g. 8 for an 8B model): it decides which GPU fits.")
    check.number(model, "parameters_billions")
    model["precision"] = check.choice(model, "precision", default=spec_field("model.precision").default)
    default_format = "tensorizer" if (uri or "").endswith(".tensors") else (
        "safetensors" if (uri or "").endswith(".safetensors") else "other")
    model["format"] = check.choice(model, "format", default=default_format)

    tier = check.choice(storage, "tier")
    if uri and tier:
        on_pvc = uri.startswith("pvc://")
        if on_pvc != (tier == "nvme-pvc"):
            check.error("storage_mismatch", "storage.tier", "`nvme-pvc` goes with a `model.uri` of "
                        "`pvc://<claim>/<path>` and the object tiers with `s3://…`; change one of them.")
    check.integer(storage, "pvc_size_gi")
    endpoint = storage.get("endpoint")
    if endpoint is not None and not (isinstance(endpoint, str) and ENDPOINT_RE.fullmatch(endpoint)):
        check.error("invalid_value", "storage.endpoint", "Give the S3 endpoint as a URL without a path, e.g. "
                    "`https://cwobject.com` or `http://cwlota.com`, or leave it out to use the region's.")
    secret = storage.get("credentials_secret")
    if secret is not None:
        if looks_like_secret(secret):
            check.error("plaintext_secret", "storage.credentials_secret", "This looks like a key itself. "
                        "Store the object-store keys in a Kubernetes Secret and give only its name here.")
        elif not isinstance(secret, str) or not SECRET_NAME_RE.fullmatch(secret):
            check.error("invalid_secret_ref", "storage.credentials_secret", "Give the name of a Secret in your "
                        "team namespace (lowercase letters, digits, '-' or '.').")
    if workload == "online" and spec.get("target") == "knative" and uri and uri.startswith("pvc://"):
        check.warn("pvc_needs_feature_flag", "model.uri", "A plain Knative Service mounts a PVC only when the "
                   "cluster enables `kubernetes.podspec-persistent-volume-claim`; set `target` to `kserve` "
                   "or use object storage if unsure.")


def _check_compute(check, spec, catalog):
    compute = spec["compute"]
    if check.choice(compute, "accelerator") == CPU:
        _check_cpu(check, spec, catalog)
        return
    gpu_name, region = compute.get("gpu_class"), compute.get("region")
    gpu_name = gpu_name if gpu_name is None or isinstance(gpu_name, str) else repr(gpu_name)
    region = region if region is None or isinstance(region, str) else repr(region)
    gpu = catalog.gpus.get(gpu_name)
    if gpu_name is not None and (gpu is None or not gpu.available):
        check.error("unknown_gpu_class", "compute.gpu_class", f"`{gpu_name}` is not an available GPU class; "
                    f"pick one of {', '.join(sorted(n for n, g in catalog.gpus.items() if g.available))} or "
                    "leave it out for a recommendation.")
        gpu = None
    offered = _check_region(check, region, catalog)
    if gpu and offered and gpu.name not in offered.offerings:
        others = ", ".join(region_alternatives(catalog, gpu.name)) or "none right now"
        check.error("gpu_not_in_region", "compute.gpu_class", f"{gpu.name} is not offered in {region}. "
                    f"Regions with it: {others}; or leave `compute.gpu_class` out for a class that is there.")
    gpus = check.integer(compute, "gpus_per_replica")
    if gpus and gpu and gpus > gpu.max_gpus:
        link = "its GPUs have no NVLink" if gpu.max_gpus == 1 else f"NVLink bridges link only pairs of {gpu.name}"
        check.warn("tensor_parallel_over_pcie", "compute.gpus_per_replica", f"{gpus} × {gpu.name} in one replica: "
                   f"{link}, so tensor parallelism sends the all-reduce of every layer over PCIe (PCIe 4.0 x16 "
                   "moves about 64 GB/s, NVLink on an A100 HGX 600 GB/s). Expect lower throughput and slower "
                   "tokens than on an NVLink class with the same memory; pick one if your region has it.")
    check.number(compute, "cpu")
    check.integer(compute, "memory_gi")
    facts = _memory_facts(check, spec, catalog)
    memory = _memory(spec, facts)
    if gpu and gpus and memory and gpu.vram_gb * gpus < memory["total_gb"]:
        need = memory["total_gb"]
        more = next((n for n in GPU_COUNTS if gpu.vram_gb * n >= need), None)
        hint = (f"use {more} GPUs per replica{' (over PCIe: slower)' if more > gpu.max_gpus else ''}" if more
                else "pick a class with more memory")
        check.error("insufficient_gpu_memory", "compute.gpu_class", f"The model needs about {need:.0f} GB "
                    f"of GPU memory{_estimated(memory)} but {gpus} × {gpu.name} has {gpu.vram_gb * gpus} GB; {hint}, "
                    "or leave `compute.gpu_class` and `compute.gpus_per_replica` out for a recommendation.")


def _check_region(check, region, catalog):
    offered = catalog.regions.get(region)
    if region is not None and (offered is None or not offered.available):
        check.error("unknown_region", "compute.region", f"`{region}` is not an available region; pick one of "
                    f"{', '.join(sorted(c for c, r in catalog.regions.items() if r.available))} or leave it out.")
        return None
    return offered


def _check_cpu(check, spec, catalog):
    """`compute.accelerator` `cpu` (specs/cpu.py): no GPU fields, a CPU rate to price it, RAM for the model."""
    compute = spec["compute"]
    for key in GPU_FIELDS:
        if key in compute:
            check.error("accelerator_mismatch", f"compute.{key}", f"`compute.{key}` applies to GPU nodes; on CPU "
                        "nodes remove it, or set `compute.accelerator` to `gpu`.")
    region = compute.get("region")
    _check_region(check, region if region is None or isinstance(region, str) else repr(region), catalog)
    if catalog.cpu is None:
        check.error("invalid_value", "compute.accelerator", "CPU nodes have no rate in the catalog yet: ask platform "
                    "staff to add one, or set `compute.accelerator` to `gpu`.")
    check.number(compute, "cpu")
    ram = check.integer(compute, "memory_gi")
    memory = _memory(spec, _memory_facts(check, spec, catalog))
    if ram and memory and memory_gb(ram) < memory["total_gb"]:
        need = memory["total_gb"]
        check.error("insufficient_memory", "compute.memory_gi", f"The model needs about {need:.1f} GB of RAM"
                    f"{_estimated(memory)} but {ram} GiB is {memory_gb(ram):.1f} GB; give at least "
                    f"{-(-need // GB_PER_GIB):.0f} GiB, or leave `compute.memory_gi` out for a recommendation.")


def _memory(spec, facts):
    """memory.memory_breakdown of the checked facts, or None when the size or precision is not usable."""
    params = spec["model"].get("parameters_billions")
    if not isinstance(params, (int, float)) or spec["model"].get("precision") not in BYTES_PER_PARAMETER:
        return None
    return memory_breakdown(facts)


def _estimated(memory):
    return (" (its KV cache estimated from the parameter count: name `model.family` or give `model.layers`, "
            "`model.kv_heads` and `model.head_dim` to count it exactly)" if memory["kv_estimated"] else "")


def _memory_facts(check, spec, catalog):
    """The model and serving numbers memory is computed from, each checked (a bad one counts as absent)."""
    model, serving = spec["model"], spec["serving"]
    facts = {"model": {k: model.get(k) for k in ("parameters_billions", "precision")}, "serving": {}}
    family = model.get("family")
    known = catalog.families.get(family) if isinstance(family, str) else None
    if family is not None and known is None:
        names = ", ".join(sorted(catalog.families)) or "none yet"
        check.error("invalid_value", "model.family", f"`{family}` is not a model family in the catalog ({names}); "
                    "leave it out and give `model.layers`, `model.kv_heads` and `model.head_dim` instead.")
    for key in ("layers", "kv_heads", "head_dim"):
        facts["model"][key] = check.integer(model, key)
        if facts["model"][key] is None and known is not None:
            facts["model"][key] = getattr(known, key)
    for key in ("max_context_tokens", "max_concurrent_sequences"):
        facts["serving"][key] = check.integer(serving, key)
    return facts


def _check_scaling(check, spec):
    scaling = spec["scaling"]
    lo = check.integer(scaling, "min_replicas", code="invalid_replicas")
    hi = check.integer(scaling, "max_replicas", code="invalid_replicas")
    if lo is not None and hi is not None and lo > hi:
        check.error("invalid_replicas", "scaling.min_replicas", f"`scaling.min_replicas` ({lo}) is above "
                    f"`scaling.max_replicas` ({hi}); lower the minimum or raise the maximum.")
    check.integer(scaling, "target_concurrency")
    check.integer(scaling, "target_utilization_percent")
    check.choice(scaling, "latency_tolerance")
    retention = scaling.get("scale_to_zero_retention")
    if retention is not None:
        seconds = duration_seconds(retention)
        if seconds is None:
            check.error("invalid_value", "scaling.scale_to_zero_retention", "Write the retention as a duration "
                        "such as `30m`, `1h` or `90s`.")
        elif seconds > MAX_RETENTION_SECONDS:
            check.error("scale_to_zero_retention_too_long", "scaling.scale_to_zero_retention", "Knative keeps "
                        "idle pods at most 1h; use `1h` or less, or set `scaling.min_replicas` to 1 to stay warm.")
    batching = spec["batching"]
    if batching:
        declared = section_fields("batching")
        for f in declared:
            if f.required and batching.get(f.name) is None:
                check.error("invalid_value", f.path, f"`{f.path}` is required with batching.")
        for f in declared:
            check.integer(batching, f.name)
    if spec["batch"]:
        check.warn("ignored_field", "batch", "`batch` applies to batch workloads only and is ignored here.")
        spec["batch"] = {}


@cache
def _time_zones():
    return frozenset(available_timezones())  # read from the system's tz database once


def _check_batch(check, spec):
    batch = spec["batch"]
    for key in ("inputs_uri", "outputs_uri"):
        value = batch.get(key)
        if value is None or value == "":
            check.error("invalid_value", f"batch.{key}", f"`batch.{key}` is required: `s3://<bucket>/<path>` "
                        "or `pvc://<claim>/<path>`.")
        elif not isinstance(value, str) or not URI_RE.fullmatch(value):
            check.error("invalid_value", f"batch.{key}", f"`batch.{key}` is not a storage URI: write "
                        "`s3://<bucket>/<path>` (a lowercase bucket name of 2 or more characters) or "
                        "`pvc://<claim>/<path>`, with no spaces.")
    for key in ("parallelism", "timeout_minutes", "retries"):
        check.integer(batch, key)
    schedule, timezone = batch.get("schedule"), batch.get("timezone")
    if schedule is not None and not (isinstance(schedule, str) and CRON_RE.fullmatch(schedule.strip())):
        check.error("invalid_value", "batch.schedule", "Give five cron fields (minute hour day month weekday), "
                    "e.g. `0 3 * * *` for 03:00 every day, or `@daily`; leave it out to run once.")
    if timezone is not None and not (isinstance(timezone, str) and timezone in _time_zones()):
        check.error("invalid_value", "batch.timezone", "Give an IANA time zone such as `UTC` or `Europe/Berlin`.")
    for name in ONLINE_ONLY:
        if spec[name]:
            check.warn("ignored_field", name, f"`{name}` applies to online services only and is ignored here.")
            spec[name] = {}


def _check_access_and_rules(check, spec, workload):
    access = spec["access"]
    check.choice(access, "visibility")
    if "cross_cloud_clients" in access and not isinstance(access["cross_cloud_clients"], bool):
        check.error("invalid_value", "access.cross_cloud_clients", "`access.cross_cloud_clients` is true or false.")
    if "request_queue" in spec and not isinstance(spec["request_queue"], bool):
        check.error("invalid_value", "request_queue", "`request_queue` is true or false.")
    elif spec.get("request_queue") and workload == "online":
        check.warn("request_queue_discouraged", "request_queue", "A request queue in front of the service is "
                   "probably not needed: Knative buffers requests and autoscaling adds replicas as load grows. "
                   "Answer no to `request_queue` and tune the scaling instead.")
    models = check.integer(spec, "models_per_gpu")
    if models and models > 1:
        check.error("bin_packing", "models_per_gpu", "Do not pack several models onto one GPU or swap them in "
                    "and out: pick the right GPU class for each model, give it its own deployment and let it "
                    "autoscale (to zero when idle). Set `models_per_gpu` to 1.")
    pref = check.choice(spec, "region_preference")
    if pref == "closest-to-users":
        check.warn("region_by_proximity", "region_preference", "Choosing the region closest to users rarely "
                   "pays off: generation time dwarfs network latency. Choose the region by GPU availability "
                   "instead.")
