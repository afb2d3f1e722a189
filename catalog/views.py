from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from . import selectors


@login_required
def catalog_page(request, load_examples=(), cpu_guidance=None):
    """`load_examples`: cold-start estimates per tier; `cpu_guidance`: when CPU nodes suffice and what a
    replica costs there. Both computed by the caller (they are specs' facts)."""
    return render(
        request,
        "catalog/catalog.html",
        {
            "nav": "catalog",
            "gpus": selectors.gpu_classes_list(),
            "regions": selectors.regions_list(),
            "tiers": selectors.storage_tiers_list(),
            "load_examples": load_examples,
            "cpu_rate": selectors.cpu_rate_in_force(),
            "cpu_guidance": cpu_guidance,
        },
    )
