"""Every read a user can trigger, scoped to the user in one place.

Team members see their teams' deployments; platform staff (is_staff) see all.
Anyone else gets 404 for a deployment, never 403, so ids reveal nothing.
"""

from django.http import Http404

from teams.models import DEPLOY_ROLES, Membership, Role, Team

from .models import Deployment


def teams_for_user(user):
    if not getattr(user, "is_authenticated", False):
        return Team.objects.none()
    if user.is_staff:
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user).distinct()


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


def user_role(user, team):
    """The user's role in the team (staff count as owners of every team), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_staff:
        return Role.OWNER
    role = Membership.objects.filter(user=user, team=team).values_list("role", flat=True).first()
    return Role(role) if role else None


def user_can_deploy(user, team):
    return user_role(user, team) in DEPLOY_ROLES
