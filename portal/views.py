from django.contrib.auth.decorators import login_required
from django.http import JsonResponse

from catalog.selectors import catalog_snapshot
from catalog.views import catalog_page as catalog_page_render
from specs.cost import cpu_replica_rate
from specs.cpu import CPU_MAX_WEIGHTS_GB, DEFAULT_VCPUS, MIN_MEMORY_GI
from specs.memory import BYTES_PER_PARAMETER, weights_gb
from specs.recommend import cold_start_seconds

from . import health

# Models the catalog page estimates loading times for (Tensorizer-serialized, bf16).
LOAD_EXAMPLES = (("Llama 3 8B", 8), ("Llama 3 70B", 70))


def healthz(request):
    report = health.health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


@login_required
def catalog_page(request):
    """The catalog, with the wizard's own cold-start estimate for two common models on each tier."""
    catalog = catalog_snapshot()
    examples = []
    for label, params in LOAD_EXAMPLES:
        model = {"parameters_billions": params, "precision": "bf16", "format": "tensorizer"}
        examples.append({"label": label, "size_gb": round(weights_gb(params, "bf16")), "tiers": [
            (tier, *cold_start_seconds({"model": model, "storage": {"tier": tier}}, catalog))
            for tier in catalog.tiers]})
    return catalog_page_render(request, load_examples=examples, cpu_guidance=cpu_guidance(catalog))


def cpu_guidance(catalog):
    """specs/cpu.py's threshold in words (the largest model per precision) and a typical replica's rate."""
    fits = [(precision, f"{CPU_MAX_WEIGHTS_GB / BYTES_PER_PARAMETER[precision]:g}B")
            for precision in ("bf16", "int8", "int4")]
    rate, basis = cpu_replica_rate(DEFAULT_VCPUS, MIN_MEMORY_GI, catalog=catalog)
    return {"max_weights_gb": f"{CPU_MAX_WEIGHTS_GB:g}", "fits": fits, "replica_usd": f"{rate:.2f}",
            "replica_basis": basis}
