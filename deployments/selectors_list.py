"""The API's deployment list as plain rows: the columns the list shows, nothing else.

Scoped like deployments.selectors.deployments_for_user (members see their teams' deployments, staff all,
anyone else nothing), but by a subquery on the user's memberships: no join that duplicates rows, so no
DISTINCT over whole rows; and the revision is joined for its number only, never its spec and manifests.
"""

from teams.selectors import team_ids_visible

from .models import Deployment

LIST_COLUMNS = (
    "id", "name", "team__slug", "workload", "target", "status", "status_message", "ready_pods", "total_pods", "url",
    "last_synced_at", "current_revision__number", "applied_revision", "gpu_class", "region", "gpus_per_replica",
    "approval_reason", "created_at", "updated_at",
)


def deployments_listed(user):
    """The user's deployments for the list: a Deployment queryset to filter and order, then `.values(*LIST_COLUMNS)`."""
    rows = Deployment.objects.all()
    teams = team_ids_visible(user)
    return rows if teams is None else rows.filter(team_id__in=teams)
