"""The deployment page's Traffic panel: the split, each revision's ready pods, and the canary steps.

GET returns the panel with what the cluster says (htmx loads it after the page); POST takes one step
through the same services as the API and goes back to the page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from teams.selectors import user_can_deploy

from ..errors import DeploymentConflict, SpecInvalid
from ..selectors import deployment_get_for_user
from ..selectors_traffic import deployment_traffic
from ..services.rollouts import rollout_promote, rollout_rollback, rollout_set


def _step(request, deployment):
    action = request.POST.get("action", "")
    if action == "promote":
        rollout_promote(user=request.user, deployment=deployment)
        return f"Promoted: revision {deployment.current_revision.number} takes all traffic."
    if action == "rollback":
        rollout_rollback(user=request.user, deployment=deployment)
        return f"Rolled back: revision {deployment.rollout_stable} takes all traffic again."
    try:
        percent = int(request.POST.get("canary_percent", ""))
    except ValueError:
        raise SpecInvalid([{"code": "invalid_value", "field": "canary_percent",
                            "message": "Type the canary's share of traffic, a whole number from 1 to 99."}]) from None
    rollout_set(user=request.user, deployment=deployment, canary_percent=percent)
    return f"Revision {deployment.current_revision.number} gets {percent} % of the traffic."


@require_http_methods(["GET", "POST"])
@login_required
def deployment_traffic_panel(request, pk):
    deployment = deployment_get_for_user(request.user, pk)
    if request.method == "GET":
        return render(request, "deployments/detail.html#traffic", {
            "d": deployment, "traffic": deployment_traffic(deployment, live=True),
            "can_deploy": user_can_deploy(request.user, deployment.team), "traffic_live": True})
    try:
        done = _step(request, deployment)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or "Your role in this team cannot do that.")
    except (SpecInvalid, DeploymentConflict) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect(reverse("deployment-detail", args=[deployment.pk]) + "#traffic")
