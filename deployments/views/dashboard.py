"""The team dashboard: one view for the full page and for the htmx poll of its live part."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from specs.vocabulary import Status
from teams.selectors import teams_for_user
from teams.slugs import is_team_slug

from ..selectors_dashboard import dashboard_read

# htmx stops polling when a poll answers 286.
STOP_POLLING = 286


@login_required
def dashboard(request):
    team = request.GET.get("team") or None
    if team is not None and not is_team_slug(team):
        team = None  # like an unknown status: the filter is ignored, never a database error
    status = request.GET.get("status") or None
    if status not in Status.values:
        status = None
    data = dashboard_read(request.user, team=team, status=status, page=request.GET.get("page") or 1)
    filters = request.GET.copy()
    filters.pop("page", None)
    context = {
        "nav": "dashboard", **data, "team_filter": team or "", "status_filter": status or "",
        "team_choices": teams_for_user(request.user).only("slug", "name"), "status_choices": Status.choices,
        "query": request.GET.urlencode(), "filter_query": filters.urlencode(),
    }
    if request.htmx:
        response = render(request, "deployments/dashboard.html#live", context)
        if data["all_final"]:
            response.status_code = STOP_POLLING
        return response
    return render(request, "deployments/dashboard.html", context)
