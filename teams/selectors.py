"""Who may do what in which team: every role check in Gantry asks these.

Platform staff (is_staff) count as owners of every team.
"""

from rows.read import row_read

from .models import DEPLOY_ROLES, Membership, Role, Team
from .slugs import is_team_slug


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


def team_ids_visible(user):
    """A subquery of the ids of the teams whose deployments the user sees; None: every team (staff).

    A subquery rather than a join, so a list scoped with it needs no DISTINCT.
    """
    if not getattr(user, "is_authenticated", False):
        return Membership.objects.none().values("team_id")
    if user.is_staff:
        return None
    return Membership.objects.filter(user=user).values("team_id")


def team_access(user, slug):
    """(team, may deploy) for the team a spec names, read in one query when the user may deploy there.

    (None, False): no such team, or not one of the user's (the spec names an unknown team); (team, False):
    the user only views it. user=None is the system itself: every team, deploy allowed.
    """
    if not is_team_slug(slug) or (user is not None and not getattr(user, "is_authenticated", False)):
        return None, False
    if user is None or user.is_staff:
        team = Team.objects.filter(slug=slug).first()
        return team, team is not None
    # Every create and preview: the team and the user's role in one statement of plain SQL built once (rows/),
    # where the ORM's join took longer to build than to run.
    role = (f'SELECT m.role FROM "{Membership._meta.db_table}" m WHERE m.team_id = r0.id AND m.user_id = %s', [user.pk])
    team = row_read(Team, {"slug": slug}, extra={"role": role})
    if team is None or team.role is None:
        return None, False  # an outsider is told the team is unknown, as for a team that does not exist
    return team, team.role in DEPLOY_ROLES


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
