"""What a spec will cost (SPEC.md's cost shape): an estimate from catalog prices, before anything runs.

What a deployment really spent is metered from what ran, in spend/. A month is 730 hours (8760 / 12).
A GPU replica costs its GPUs (the GPU rate includes the host's CPU and RAM); a CPU replica
(`compute.accelerator: cpu`) costs its vCPUs and its RAM at the catalog's CPU rate, each requested GiB
counted as one billed GB.
"""

from decimal import ROUND_HALF_UP, Decimal

from .cpu import on_cpu
from .formats import money_rate

HOURS_PER_MONTH = Decimal(730)


def _money(value):
    return float(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def cpu_replica_rate(vcpus, memory_gi, *, catalog):
    """(dollars per hour, basis) of one CPU replica; zero when the catalog has no CPU rate."""
    rate = catalog.cpu
    if rate is None:
        return Decimal(0), f"{vcpus} vCPU + {memory_gi} GiB (no CPU rate in the catalog)"
    dollars = Decimal(str(vcpus)) * rate.per_vcpu_hour + Decimal(memory_gi) * rate.per_gb_hour
    return dollars, (f"{vcpus} vCPU at {money_rate(rate.per_vcpu_hour)}/vCPU-hour + {memory_gi} GiB at "
                     f"{money_rate(rate.per_gb_hour)}/GB-hour")


def replica_rate(spec, *, catalog):
    """(dollars per hour, basis) of one replica or batch pod: its GPUs, or on CPU nodes its vCPUs and RAM."""
    compute = spec.get("compute") or {}
    if on_cpu(spec):
        return cpu_replica_rate(compute.get("cpu") or 0, compute.get("memory_gi") or 0, catalog=catalog)
    gpu = catalog.gpus.get(compute.get("gpu_class"))
    gpus = compute.get("gpus_per_replica") or 1
    price = gpu.price if gpu else Decimal(0)
    return price * gpus, f"{gpus} × {compute.get('gpu_class')} at {money_rate(price)}/GPU-hour"


def cost_estimate(spec, *, catalog):
    """SPEC.md's cost shape from catalog prices; batch adds the most one run can cost."""
    rate, each = replica_rate(spec, catalog=catalog)
    if spec.get("workload") == "batch":
        batch = spec.get("batch") or {}
        pods, minutes = batch.get("parallelism", 1), batch.get("timeout_minutes", 60)
        run = rate * pods * minutes / 60
        return {"currency": "USD", "per_hour_min": 0.0, "per_hour_max": _money(rate * pods),
                "per_month_min": 0.0, "per_month_max": _money(run), "per_run_max": _money(run),
                "basis": f"{pods} pod{'' if pods == 1 else 's'} × {each} for at most {minutes} minutes; nothing between runs "
                         "(per month: one run)."}
    scaling = spec.get("scaling") or {}
    low, high = scaling.get("min_replicas", 0), scaling.get("max_replicas", 1)
    return {"currency": "USD",
            "per_hour_min": _money(rate * low), "per_hour_max": _money(rate * high),
            "per_month_min": _money(rate * low * HOURS_PER_MONTH),
            "per_month_max": _money(rate * high * HOURS_PER_MONTH),
            "basis": f"{low}–{high} replica{'' if high == 1 else 's'} × {each}; a month is 730 hours."}
