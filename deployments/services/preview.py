"""The dry run behind the wizard's last step and POST /api/v1/deployments/preview/: nothing is stored.

specs.preview does the pure work; this adds what needs the database: the catalog snapshot, the
teams the user may deploy to, and the team's quota and budget (over_quota).
"""

from catalog.selectors import catalog_snapshot
from specs.checker import Issue
from specs.preview import preview_document, spec_preview
from specs.vocabulary import Status
from teams.models import Team
from teams.selectors import team_slugs_for_user

from ..models import Deployment
from .quota import quota_check


def spec_facts(user):
    """(catalog snapshot, team slugs) that the pure spec code takes: read once per request."""
    return catalog_snapshot(), team_slugs_for_user(user)


def deployment_preview(*, spec, user=None, facts=None, exclude_deployment=None):
    """{spec, target, manifests, warnings, errors, cost, checklist, explanations, cold_start}, all JSON-ready.

    `exclude_deployment`: a change of that deployment; its own current usage does not count against the quota.
    """
    catalog, teams = facts or spec_facts(user)
    completed, errors, warnings, extras = spec_preview(spec, catalog=catalog, teams=teams)
    taken = None if any(e.field in ("name", "team") for e in errors) else _name_taken(completed, exclude_deployment)
    if taken:
        errors.insert(0, taken)
    if not errors:
        team = Team.objects.filter(slug=completed["team"]).first()
        over = quota_check(team=team, spec=completed, cost=extras["cost"],
                           exclude_deployment=exclude_deployment) if team else None
        if over:
            errors.append(over)
    return preview_document(completed, errors, warnings, extras)


def _name_taken(spec, exclude_deployment):
    """name_taken before deploy, as the create would say it (the database constraint still decides a race).

    Only for a name and team the validator accepted: those are plain DNS labels, safe to look up.
    """
    team, name = (spec.get("team"), spec.get("name")) if isinstance(spec, dict) else (None, None)
    if not (isinstance(team, str) and isinstance(name, str)):
        return None
    live = Deployment.objects.filter(team__slug=team, name=name).exclude(status=Status.DELETED)
    if exclude_deployment is not None:
        live = live.exclude(pk=exclude_deployment.pk)
    if not live.exists():
        return None
    return Issue("name_taken", "name", f"Team {team} already has a deployment named {name!r}; pick another "
                 "name or change that one.")
