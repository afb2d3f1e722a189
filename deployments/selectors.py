"""Every read a user can trigger, scoped to the user in one place.

Team members see their teams' deployments; platform staff (is_staff) see all.
Anyone else gets 404 for a deployment, never 403, so ids reveal nothing.
"""

from django.http import Http404

from .models import Deployment


def deployments_for_user(user):
    base = Deployment.objects.select_related("team", "current_revision")
    if not getattr(user, "is_authenticated", False):
        return base.none()
    if user.is_staff:
        return base.all()
    return base.filter(team__memberships__user=user).distinct()


def deployment_get_for_user(user, pk):
    try:
        return deployments_for_user(user).get(pk=pk)
    except (Deployment.DoesNotExist, ValueError, TypeError):
        raise Http404("No such deployment") from None
