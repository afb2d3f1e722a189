from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from ..selectors_fleet import fleet_overview


@login_required
def fleet_page(request):
    # Not even a hint that the page exists for people who are not platform staff.
    if not request.user.is_staff:
        raise Http404("No such page")
    return render(request, "deployments/fleet.html", {"nav": "fleet", **fleet_overview()})
