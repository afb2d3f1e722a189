from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from . import selectors


@login_required
def catalog_page(request, load_examples=()):
    """`load_examples`: cold-start estimates per tier, computed by the caller (the estimate is specs' fact)."""
    return render(
        request,
        "catalog/catalog.html",
        {
            "nav": "catalog",
            "gpus": selectors.gpu_classes_list(),
            "regions": selectors.regions_list(),
            "tiers": selectors.storage_tiers_list(),
            "load_examples": load_examples,
        },
    )
