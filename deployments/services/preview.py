"""The dry run behind the wizard's last step and POST /api/v1/deployments/preview/: nothing is stored.

specs.preview does the pure work; this adds what needs the database: the catalog snapshot, the
team the spec names (and whether the user may deploy there), and the team's quota and budget (over_quota).
"""

from dataclasses import dataclass

from catalog.cache import catalog_snapshot_cached
from catalog.snapshot import Catalog
from specs.checker import Issue
from specs.preview import preview_document, spec_preview
from specs.vocabulary import Status
from teams.models import Team
from teams.selectors import team_access

from ..models import Deployment
from .quota import quota_check


@dataclass(frozen=True)
class SpecFacts:
    """What the pure spec code takes from the database, read once per request."""

    catalog: Catalog
    team: Team | None  # the team the spec names, if it is one of the user's
    may_deploy: bool  # the user's role there allows a deploy (staff and the system itself: always)

    @property
    def teams(self):
        """The team slugs the spec may name: the validator's `teams`."""
        return frozenset({self.team.slug}) if self.team is not None else frozenset()


def spec_facts(user, spec, *, team=None):
    """SpecFacts for `spec`: the cached catalog and one read of the team it names with the user's role in it.

    `team`: already known (a change of a deployment, whose team never changes, after its permission check).
    """
    if team is not None:
        return SpecFacts(catalog_snapshot_cached(), team, True)
    slug = spec.get("team") if isinstance(spec, dict) else None
    return SpecFacts(catalog_snapshot_cached(), *team_access(user, slug))


def deployment_preview(*, spec, user=None, facts=None, exclude_deployment=None):
    """{spec, target, manifests, warnings, errors, cost, checklist, explanations, cold_start}, all JSON-ready.

    `exclude_deployment`: a change of that deployment; its own current usage does not count against the quota.
    """
    facts = facts or spec_facts(user, spec)
    completed, errors, warnings, extras = spec_preview(spec, catalog=facts.catalog, teams=facts.teams)
    taken = None if any(e.field in ("name", "team") for e in errors) else _name_taken(completed, exclude_deployment)
    if taken:
        errors.insert(0, taken)
    if not errors and facts.team is not None:
        over = quota_check(team=facts.team, spec=completed, cost=extras["cost"], exclude_deployment=exclude_deployment)
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
