"""Realistic rows for the benchmarks: revisions with the completed spec and rendered manifests a real create
stores (about 2.4 KB of manifests, not `[]`), live statuses, and a month of daily spend ending on the last day
of a month (what the budget check sums is largest then)."""

import calendar
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache

from .bench_push import SPEC
from .support import database_vacuum

STATUSES = ("running", "running", "scaled_to_zero", "running", "queued")  # all counted by the quota


def month_end():
    """23:00 UTC on the last day of the current month: "now" while a benchmark measures the budget check."""
    today = datetime.now(UTC)
    last = calendar.monthrange(today.year, today.month)[1]
    return today.replace(day=last, hour=23, minute=0, second=0, microsecond=0)


@cache
def revision_stored(team_slug):
    """(completed spec, manifests, cost) of SPEC for a team, as deployment_create stores them for revision 1."""
    from deployments.services.preview import deployment_preview

    preview = deployment_preview(spec={**SPEC, "team": team_slug, "name": "template"})
    assert not preview["errors"], preview["errors"]
    return preview["spec"], preview["manifests"], preview["cost"]


def team_fill(team, n, *, spend_until=None, prefix="live"):
    """Replace the team's deployments with n live ones (bulk inserts); with `spend_until` (a datetime), one
    DailySpend row per deployment for every day of that month up to it, and the team's daily rollup."""
    from django.db import transaction

    from deployments.models import Deployment, Revision
    from deployments.services.lifecycle import deployment_fields_from_spec
    from spend.models import DailySpend
    from spend.rollups import team_spend_refresh

    spec, manifests, cost = revision_stored(team.slug)
    fields = deployment_fields_from_spec(spec, cost=cost)
    now = spend_until or datetime.now(UTC)
    with transaction.atomic():
        Deployment.objects.filter(team=team).delete()
        deployments = Deployment.objects.bulk_create(
            Deployment(team=team, name=f"{prefix}-{i:05d}", status=STATUSES[i % len(STATUSES)],
                       url=f"http://{prefix}-{i:05d}.{team.slug}.example" if i % 5 != 4 else "",
                       ready_pods=i % 3, total_pods=i % 3, last_synced_at=now - timedelta(seconds=i % 90),
                       applied_revision=1 if i % 5 != 4 else None, **fields)
            for i in range(n))
        revisions = Revision.objects.bulk_create(
            Revision(deployment=d, number=1, spec={**spec, "name": d.name}, manifests=manifests) for d in deployments)
        for d, r in zip(deployments, revisions):
            d.current_revision = r
        Deployment.objects.bulk_update(deployments, ["current_revision"], batch_size=2000)
        if spend_until is not None:
            days = [spend_until.date().replace(day=k) for k in range(1, spend_until.day + 1)]
            DailySpend.objects.bulk_create(
                (DailySpend(deployment=d, team=team, day=day, gpu_hours=Decimal(i % 7), cost_usd=Decimal(i % 7) * 2,
                            warm_cost_usd=Decimal("0.25")) for i, d in enumerate(deployments) for day in days),
                batch_size=5000)
            for day in days:  # the team's daily sums, as the rollup task leaves them (spend.rollups)
                team_spend_refresh(day=day, team_ids=[team.pk])
    database_vacuum()
    return deployments
