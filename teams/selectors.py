"""Who may do what in which team: every role check in Gantry asks these.

Platform staff (is_staff) count as owners of every team.
"""

from .models import DEPLOY_ROLES, Membership, Role, Team


def teams_for_user(user):
    if not getattr(user, "is_authenticated", False):
        return Team.objects.none()
    if user.is_staff:
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user).distinct()


def teams_deployable_for_user(user):
    """Teams where the user is deployer or owner (staff: every team)."""
    if not getattr(user, "is_authenticated", False):
        return Team.objects.none()
    if user.is_staff:
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user, memberships__role__in=DEPLOY_ROLES).distinct()


def team_slugs_for_user(user):
    """Slugs of the teams whose deployments the user may name in a spec (None, the system itself: every team)."""
    teams = Team.objects.all() if user is None or user.is_staff else teams_for_user(user)
    return frozenset(teams.values_list("slug", flat=True))


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
