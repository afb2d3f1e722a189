"""Reads for the wizard, scoped to the user: drafts are personal, teams are the ones they may deploy to."""

from django.http import Http404

from catalog.selectors import catalog_snapshot, gpu_classes_list
from specs.memory import BYTES_PER_PARAMETER, memory_needed_gb
from specs.recommend import architecture_fill, gpu_options

from .models import Draft


def draft_get_for_user(user, pk):
    """The user's own draft; anyone else's is a 404, like another team's deployment."""
    draft = Draft.objects.select_related("team", "deployment__team", "deployment__current_revision").filter(
        pk=pk, user=user
    ).first()
    if draft is None or not getattr(user, "is_authenticated", False):
        raise Http404("No such draft")
    return draft


def gpu_fits_for_spec(spec):
    """(GB of GPU memory needed, classes that hold the model), cheapest first, from the recommender's fit.

    Each class: name, display name, VRAM, NVLink, InfiniBand, GPUs per replica, price per replica-hour and
    the regions offering it with the GPUs free there (most free first).
    """
    model = spec.get("model") or {}
    params, precision = model.get("parameters_billions"), model.get("precision") or "bf16"
    if not isinstance(params, (int, float)) or params <= 0 or precision not in BYTES_PER_PARAMETER:
        return None, []
    catalog = catalog_snapshot()
    need = memory_needed_gb(_memory_inputs(spec, catalog))
    details = {g.name: g for g in gpu_classes_list(only_available=True)}
    rows = {}
    for gpu, count, region in gpu_options(catalog, need):
        row = rows.get(gpu.name)
        if row is None:
            info = details.get(gpu.name)
            row = rows[gpu.name] = {
                "name": gpu.name, "display_name": info.display_name if info else gpu.name,
                "vram_gb": gpu.vram_gb, "nvlink": info.get_nvlink_display() if info else "",
                "infiniband": bool(info and info.infiniband), "gpus": count,
                "price_per_hour": gpu.price * count, "regions": [],
            }
        row["regions"].append({"code": region, "free": catalog.regions[region].offerings[gpu.name]})
    for row in rows.values():
        row["regions"].sort(key=lambda r: -r["free"])
    return need, list(rows.values())


def _memory_inputs(spec, catalog):
    """The draft's model and context, with a catalog family's architecture, as the recommender counts them."""
    model = {k: v for k, v in (spec.get("model") or {}).items()
             if k in ("parameters_billions", "precision", "layers", "kv_heads", "head_dim")
             and (k in ("parameters_billions", "precision") or (isinstance(v, int) and v > 0))}
    architecture_fill(model, catalog, family_name=(spec.get("model") or {}).get("family"))
    serving = {k: v for k, v in (spec.get("serving") or {}).items() if isinstance(v, int) and v > 0}
    return {"model": model, "serving": serving}
