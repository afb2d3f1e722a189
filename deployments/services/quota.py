"""The team's GPU quota and monthly budget: what `over_quota` (approval by platform staff) means."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from formats.money import money
from specs.checker import Issue
from specs.cpu import on_cpu
from spend.metering import money as cents
from spend.selectors import month_to_date_sql

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


def quota_check(*, team, spec, cost, exclude_deployment=None, lock=False):
    """The `over_quota` issue when the spec would exceed the team's GPU quota or monthly budget, else None.

    Counts what the team's other live and queued deployments may hold at most (GPUs and the worst-case
    monthly cost of their current revisions) plus what was spent this month. lock=True: inside the
    transaction that writes what it decides, the team's row is locked before anything is summed
    (`team_usage`), so parallel requests cannot all squeeze into the same room.
    """
    team = team_usage(team, exclude_deployment=exclude_deployment, lock=lock)
    in_use, committed = team.held_gpus, team.held_usd
    wanted = spec_gpus_max(spec)
    if in_use + wanted > team.gpu_quota:
        return Issue("over_quota", "scaling.max_replicas" if spec.get("workload") == "online" else "batch.parallelism",
                     f"This needs up to {wanted} GPUs and team {team.slug} already holds up to {in_use} of its quota "
                     f"of {team.gpu_quota}. Lower the replicas or GPUs, or ask platform staff to approve it.")
    monthly = Decimal(str(cost.get("per_month_max", 0)))
    spent = cents(team.spent_usd)
    remaining = max(team.monthly_budget_usd - spent - committed, Decimal(0))
    if monthly > remaining:
        return Issue("over_quota", "compute.gpu_class",
                     f"Up to {money(monthly)} a month is over what is left of team {team.slug}'s budget: "
                     f"{money(remaining)} of {money(team.monthly_budget_usd)} after {money(spent)} spent this month "
                     f"and up to {money(committed)} a month its other deployments may cost. "
                     "Lower max replicas or pick a cheaper GPU class, or ask platform staff to approve it.")
    return None


@dataclass(frozen=True)
class TeamUsage:
    """What a quota decision reads of a team: its limits as they are now and what it holds and spent."""

    slug: str
    gpu_quota: int
    monthly_budget_usd: Decimal
    held_gpus: int
    held_usd: Decimal
    spent_usd: Decimal


def team_usage(team, *, exclude_deployment=None, lock=False):
    """The team's limits as they are now (TeamUsage), with `held_gpus` and `held_usd`: the sums of gpus_max and
    monthly_max_usd over its other counted deployments, read in one pass of the (team, status) index; and
    `spent_usd`, its spend this month (spend.selectors.month_to_date_sql), in the same statement.

    lock=True first takes the row lock until the transaction ends, so quota decisions for one team happen one
    at a time. In a statement of its own: in Read Committed each statement reads a snapshot taken when it
    starts, and a SELECT FOR UPDATE that waited re-reads only the locked row (PostgreSQL 15 docs, "Transaction
    Isolation"), so sums read by the locking statement would miss what the previous holder just committed.
    FOR NO KEY UPDATE: it still serializes the quota decisions, but lets other transactions insert rows that
    reference the team (events, deliveries), whose foreign key checks take FOR KEY SHARE. With FOR UPDATE, an
    approval racing a change deadlocked on the team row (tests/system/concurrency/test_races.py).
    Plain SQL, both statements: the ORM's select_for_update, and a RawQuerySet building a Team, took longer to
    build than the statements took to run, every create.
    """
    teams, deployments = type(team)._meta.db_table, Deployment._meta.db_table
    other = "AND d.id <> %s" if exclude_deployment is not None else ""
    spent_sql, spent_params = month_to_date_sql("t.id")
    sql = (f'SELECT t.slug, t.gpu_quota, t.monthly_budget_usd, h.held_gpus, h.held_usd, m.month '
           f'FROM "{teams}" t CROSS JOIN LATERAL ('
           f'SELECT COALESCE(SUM(d.gpus_max), 0) AS held_gpus, COALESCE(SUM(d.monthly_max_usd), 0) AS held_usd '
           f'FROM "{deployments}" d WHERE d.team_id = t.id AND d.status = ANY(%s) {other}) h '
           f'CROSS JOIN LATERAL ({spent_sql}) m WHERE t.id = %s')
    params = [list(COUNTED_STATUSES), *([exclude_deployment.pk] if exclude_deployment is not None else []),
              *spent_params, team.pk]
    with connection.cursor() as cursor:
        if lock:
            cursor.execute(f'SELECT 1 FROM "{teams}" WHERE id = %s FOR NO KEY UPDATE', [team.pk])
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        raise type(team).DoesNotExist(f"team {team.pk} is gone")
    return TeamUsage(*row)
