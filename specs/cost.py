"""What a spec will cost (SPEC.md's cost shape): an estimate from catalog prices, before anything runs.

What a deployment really spent is metered from what ran, in spend/. A month is 730 hours (8760 / 12).
"""

from decimal import ROUND_HALF_UP, Decimal

HOURS_PER_MONTH = Decimal(730)


def _money(value):
    return float(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def cost_estimate(spec, *, catalog):
    """SPEC.md's cost shape from catalog prices; batch adds the most one run can cost."""
    compute = spec.get("compute") or {}
    gpu = catalog.gpus.get(compute.get("gpu_class"))
    gpus = compute.get("gpus_per_replica") or 1
    price = gpu.price if gpu else Decimal(0)
    rate = price * gpus
    each = f"{gpus} × {compute.get('gpu_class')} at ${price:.2f}/GPU-hour"
    if spec.get("workload") == "batch":
        batch = spec.get("batch") or {}
        pods, minutes = batch.get("parallelism", 1), batch.get("timeout_minutes", 60)
        run = rate * pods * minutes / 60
        return {"currency": "USD", "per_hour_min": 0.0, "per_hour_max": _money(rate * pods),
                "per_month_min": 0.0, "per_month_max": _money(run), "per_run_max": _money(run),
                "basis": f"{pods} pod(s) × {each} for at most {minutes} minutes; nothing between runs "
                         "(per month: one run)."}
    scaling = spec.get("scaling") or {}
    low, high = scaling.get("min_replicas", 0), scaling.get("max_replicas", 1)
    return {"currency": "USD",
            "per_hour_min": _money(rate * low), "per_hour_max": _money(rate * high),
            "per_month_min": _money(rate * low * HOURS_PER_MONTH),
            "per_month_max": _money(rate * high * HOURS_PER_MONTH),
            "basis": f"{low}–{high} replica(s) × {each}; a month is 730 hours."}
