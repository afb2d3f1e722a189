"""Every read a user can trigger, scoped to the user in one place.

Team members see their teams' deployments; platform staff (is_staff) see all.
Anyone else gets 404 for a deployment, never 403, so ids reveal nothing.
"""

from django.http import Http404

from teams.selectors import team_ids_visible

from .models import Deployment


def deployments_for_user(user):
    base = Deployment.objects.select_related("team", "current_revision")
    if not getattr(user, "is_authenticated", False):
        return base.none()
    teams = team_ids_visible(user)  # a subquery: no join duplicating rows, so no DISTINCT over their JSON
    return base.all() if teams is None else base.filter(team_id__in=teams)


def deployment_get_for_user(user, pk):
    try:
        return deployments_for_user(user).get(pk=pk)
    except (Deployment.DoesNotExist, ValueError, TypeError):
        raise Http404("No such deployment") from None
