"""The deployment page: status (polled live), spend, charts, history, manifests and the actions."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

import clusters
from clusters.selectors import cluster_for_region
from specs.vocabulary import Status, Target
from teams.selectors import user_can_deploy

from ..selectors import deployment_get_for_user
from ..selectors_detail import (
    RANGES,
    deployment_chart,
    deployment_events,
    deployment_ledger,
    deployment_live_read,
    deployment_manifests_yaml,
    deployment_revisions,
    deployment_runs,
)
from ..selectors_traffic import deployment_traffic
from ..services import lifecycle

STOP_POLLING = 286
PARTS = ("live", "chart", "k8s")


def _k8s_events(deployment):
    try:
        events = clusters.events_list(deployment.namespace, deployment.name,
                                      cluster=cluster_for_region(deployment.region))
    except clusters.ClusterError as exc:
        return [], f"Kubernetes events are not available right now: {exc.message}"
    return [
        {"at": ev.get("lastTimestamp") or ev.get("eventTime") or ev.get("firstTimestamp") or "",
         "type": ev.get("type", ""), "reason": ev.get("reason", ""), "message": ev.get("message", ""),
         "count": ev.get("count") or 1, "kind": (ev.get("involvedObject") or {}).get("kind", ""),
         "name": (ev.get("involvedObject") or {}).get("name", "")}
        for ev in reversed(events)  # newest first, like the timeline
    ], ""


@login_required
def deployment_detail(request, pk):
    deployment = deployment_get_for_user(request.user, pk)
    part = request.GET.get("part") or ("live" if request.htmx else "")
    range_key = request.GET.get("range") if request.GET.get("range") in RANGES else "1h"
    template = "deployments/detail.html"
    if part == "live":
        response = render(request, f"{template}#live", deployment_live_read(deployment))
        if deployment.is_final:
            response.status_code = STOP_POLLING
        return response
    if part == "chart":
        return render(request, f"{template}#chart",
                      {"d": deployment, "chart": deployment_chart(deployment, range_key), "ranges": RANGES})
    if part == "timeline":
        return render(request, f"{template}#timeline", {"d": deployment, "events": deployment_events(deployment)})
    if part == "runs":
        return render(request, f"{template}#runs", {
            "d": deployment, "runs": deployment_runs(deployment) if deployment.target == Target.ARGO else [],
            "next_run": (deployment.current_run or 0) + 1,
            "can_deploy": user_can_deploy(request.user, deployment.team)})
    if part == "k8s":
        events, error = _k8s_events(deployment)
        return render(request, f"{template}#k8s", {"d": deployment, "k8s_events": events, "k8s_error": error})
    context = {
        "nav": "dashboard", **deployment_live_read(deployment), "can_deploy": user_can_deploy(request.user, deployment.team),
        "events": deployment_events(deployment), "revisions": deployment_revisions(deployment),
        "manifests_yaml": deployment_manifests_yaml(deployment), "chart": deployment_chart(deployment, range_key),
        "ranges": RANGES, "ledger": deployment_ledger(deployment), "traffic": deployment_traffic(deployment),
        "can_teardown": deployment.status not in (Status.DELETING, Status.DELETED),
        "runs": deployment_runs(deployment) if deployment.target == Target.ARGO else [],
        "next_run": (deployment.current_run or 0) + 1,
    }
    if not context.get("reached_cluster"):
        context["traffic"] = None  # nothing of it runs: no traffic to split
    return render(request, template, context)


@login_required
def deployment_manifests(request, pk):
    deployment = deployment_get_for_user(request.user, pk)
    response = HttpResponse(deployment_manifests_yaml(deployment), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{deployment.name}.yaml"'
    return response


def _act(request, deployment, action, done):
    try:
        action()
    except PermissionDenied as exc:
        messages.error(request, str(exc) or "Your role in this team cannot do that.")
    except lifecycle.SpecInvalid as exc:
        messages.error(request, str(exc) or "The spec is invalid.")
    except lifecycle.DeploymentConflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("deployment-detail", pk=deployment.pk)


@require_POST
@login_required
def deployment_rollback(request, pk):
    deployment = deployment_get_for_user(request.user, pk)
    try:
        number = int(request.POST.get("revision", ""))
    except ValueError:
        messages.error(request, "Choose a revision to roll back to.")
        return redirect("deployment-detail", pk=deployment.pk)
    return _act(request, deployment,
                lambda: lifecycle.deployment_rollback(user=request.user, deployment=deployment, revision_number=number),
                f"Rolling back to revision {number}: a new revision is being pushed.")


@require_POST
@login_required
def deployment_run_again(request, pk):
    deployment = deployment_get_for_user(request.user, pk)
    return _act(request, deployment, lambda: lifecycle.deployment_run_again(user=request.user, deployment=deployment),
                f"Run {(deployment.current_run or 0) + 1} queued: a new Workflow is being created.")


@require_POST
@login_required
def deployment_teardown(request, pk):
    deployment = deployment_get_for_user(request.user, pk)
    # The browser's confirm() is a convenience; the typed name is the confirmation that counts.
    if request.POST.get("confirm", "").strip() != deployment.name:
        messages.error(request, f"Type the deployment's name ({deployment.name}) to confirm the tear down.")
        return redirect("deployment-detail", pk=deployment.pk)
    return _act(request, deployment, lambda: lifecycle.deployment_teardown(user=request.user, deployment=deployment),
                "Tear down started: the objects are being removed from the cluster.")
