"""The team's GPU quota and monthly budget: what `over_quota` (approval by platform staff) means."""

from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import Coalesce

from specs.checker import Issue
from specs.cpu import on_cpu
from spend.budgets import team_month_to_date

from ..models import Deployment
from ..state import COUNTED_STATUSES


def spec_gpus_max(spec):
    """The most GPUs a spec can hold at once: replicas (or shards) × GPUs per replica; none on CPU nodes."""
    if on_cpu(spec):
        return 0
    gpus = (spec.get("compute") or {}).get("gpus_per_replica") or 1
    if spec.get("workload") == "batch":
        return gpus * ((spec.get("batch") or {}).get("parallelism") or 1)
    return gpus * ((spec.get("scaling") or {}).get("max_replicas") or 1)


def quota_check(*, team, spec, cost, exclude_deployment=None):
    """The `over_quota` issue when the spec would exceed the team's GPU quota or monthly budget, else None.

    Counts what the team's other live and queued deployments may hold at most (GPUs and the worst-case
    monthly cost of their current revisions, in one aggregate) plus what was spent this month. Hold the
    team's row lock (`team_lock`) around this check and the write it decides, so parallel requests
    cannot all squeeze into the same room.
    """
    others = Deployment.objects.filter(team=team, status__in=COUNTED_STATUSES)
    if exclude_deployment is not None:
        others = others.exclude(pk=exclude_deployment.pk)
    held = others.aggregate(gpus=Coalesce(Sum("gpus_max"), 0), usd=Coalesce(Sum("monthly_max_usd"), Decimal(0)))
    in_use, committed = held["gpus"], held["usd"]
    wanted = spec_gpus_max(spec)
    if in_use + wanted > team.gpu_quota:
        return Issue("over_quota", "scaling.max_replicas" if spec.get("workload") == "online" else "batch.parallelism",
                     f"This needs up to {wanted} GPUs and team {team.slug} already holds up to {in_use} of its quota "
                     f"of {team.gpu_quota}. Lower the replicas or GPUs, or ask platform staff to approve it.")
    monthly = Decimal(str(cost.get("per_month_max", 0)))
    spent = team_month_to_date(team=team)["spent_usd"]
    remaining = max(team.monthly_budget_usd - spent - committed, Decimal(0))
    if monthly > remaining:
        return Issue("over_quota", "compute.gpu_class",
                     f"Up to ${monthly:,.2f} a month is over what is left of team {team.slug}'s budget: "
                     f"${remaining:,.2f} of ${team.monthly_budget_usd:,.2f} after ${spent:,.2f} spent this month "
                     f"and up to ${committed:,.2f} a month its other deployments may cost. "
                     "Lower max replicas or pick a cheaper GPU class, or ask platform staff to approve it.")
    return None


def team_lock(team):
    """Lock the team's row until the transaction ends: quota decisions for one team happen one at a time.

    FOR NO KEY UPDATE: it still serializes the quota decisions, but lets other transactions insert rows that
    reference the team (events, deliveries), whose foreign key checks take FOR KEY SHARE. With FOR UPDATE,
    an approval racing a change deadlocked on the team row (tests/system/concurrency/test_races.py).
    """
    return type(team).objects.select_for_update(no_key=True).get(pk=team.pk)
