"""Gantry's marks on cluster objects and the namespace rule: the one copy every other module asks.

Renderers put these labels on every object and pod template; sync, reconcile and teardown find
Gantry's objects by them.
"""

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "gantry"
MANAGED_SELECTOR = f"{MANAGED_BY_LABEL}={MANAGED_BY}"
DEPLOYMENT_LABEL = "gantry.io/deployment"
TEAM_LABEL = "gantry.io/team"
REVISION_ANNOTATION = "gantry.io/revision"
RUN_LABEL = "gantry.io/run"  # the run number of a batch deployment's Workflow and its pods


def namespace_for(team_slug):
    """Each team's deployments live in one namespace of their own."""
    return f"tenant-{team_slug}"
