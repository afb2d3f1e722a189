"""Reads for the team dashboard, scoped like deployments/selectors.py (members see their teams', staff all).

The dashboard costs a fixed number of queries whatever the number of deployments:
one for the page of deployments and one for their count (scoped by a subquery on the
user's memberships, so no DISTINCT over whole rows; spec values read in SQL, big JSON
never loaded), one for their rolled-up spend, the teams, and one for the teams' month
to date from the per-team daily rollup; prices from the per-process price book (catalog.cache).
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.core.paginator import Paginator
from django.db.models import CharField, Count, F, IntegerField, Q, Sum, Value
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.utils import timezone

from catalog.cache import price_book_cached
from specs.vocabulary import Status
from spend import metering as spend
from spend.budgets import budget_level
from spend.models import DailySpend, StatusSample
from spend.rollups import retention_expression
from spend.selectors import teams_month_to_date
from teams.models import Team
from teams.selectors import team_ids_visible, teams_for_user

from .models import Deployment
from .state import scale_to_zero_state

ZERO = Decimal(0)


@dataclass
class Row:
    deployment: object
    burn_usd_per_hour: Decimal
    today_usd: Decimal
    month_usd: Decimal
    stz_state: str  # "zero" | "warm" | "active" | "always_on" | ""
    warm_left: timedelta | None

    @property
    def is_final(self):
        return self.deployment.is_final


@dataclass
class TeamTotal:
    team: Team
    spent_usd: Decimal
    today_usd: Decimal
    burn_usd_per_hour: Decimal
    deployments: int

    @property
    def budget_usd(self):
        return self.team.monthly_budget_usd

    @property
    def percent(self):
        budget = self.team.monthly_budget_usd
        return int(self.spent_usd * 100 / budget) if budget else (100 if self.spent_usd else 0)

    @property
    def bar_percent(self):
        return min(self.percent, 100)

    @property
    def level(self):
        return budget_level(self.spent_usd, self.team.monthly_budget_usd)


def _scaling_value(key):
    return KeyTextTransform(key, KeyTransform("scaling", "current_revision__spec"))


ORDER = ("team__slug", "name", "pk")


def dashboard_deployments(user, *, team=None, status=None):
    """The user's deployments for the dashboard, in page order, deleted ones only when asked for by status: a
    narrow queryset, to count and slice; `dashboard_rows` reads the columns a page shows."""
    if not getattr(user, "is_authenticated", False):
        return Deployment.objects.none()
    qs = Deployment.objects.all()
    teams = team_ids_visible(user)  # None: staff, every team
    if teams is not None:
        qs = qs.filter(team_id__in=teams)
    if team:
        qs = qs.filter(team__slug=team)
    if status:
        qs = qs.filter(status=status)
    else:
        qs = qs.exclude(status=Status.DELETED)
    return qs.order_by(*ORDER)


def dashboard_rows(deployments):
    """The columns the dashboard shows for these deployments (spec values read in SQL, big JSON deferred)."""
    return (
        deployments.select_related("team")
        .defer("status_message", "approval_reason", "decision_reason")
        .annotate(retention=retention_expression(), min_replicas=_scaling_value("min_replicas"),
                  revision_number=F("current_revision__number"))
        .order_by(*ORDER)
    )


class _Pages:
    """What the Paginator pages: counted on the narrow query; a slice reads only its own rows, through a
    subquery of their ids in page order. Sorting 10,000 narrow rows and joining 50 to their revisions costs a
    fraction of joining all 10,000 before the sort (bench/bench_dashboard.py). Still two queries."""

    ordered = True

    def __init__(self, scoped):
        self.scoped = scoped

    def count(self):
        return self.scoped.count()

    def __getitem__(self, window):
        page = Deployment.objects.filter(pk__in=self.scoped.values("pk")[window])
        return list(dashboard_rows(page))


PAGE_SIZE = 50


def dashboard_paginator(user, *, team=None, status=None, per_page=PAGE_SIZE):
    return Paginator(_Pages(dashboard_deployments(user, team=team, status=status)), per_page)


def dashboard_read(user, *, team=None, status=None, page=1, per_page=PAGE_SIZE):
    """{"rows", "teams", "page", "all_final"} in a constant number of queries.

    Rows are one page of the user's deployments; team totals cover every deployment of the
    team, on any page and whatever the status filter.
    """
    now = timezone.now()
    today = now.date()
    page_obj = dashboard_paginator(user, team=team, status=status, per_page=per_page).get_page(page)
    deployments = list(page_obj.object_list)
    teams = list(teams_for_user(user).filter(slug=team) if team else teams_for_user(user))
    month = DailySpend.objects.filter(day__gte=today.replace(day=1), day__lte=today)
    sums = {"month": Sum("cost_usd"), "today": Sum("cost_usd", filter=Q(day=today))}
    spent = {row["deployment_id"]: row for row in month.filter(deployment__in=[d.pk for d in deployments])
             .values("deployment_id").annotate(**sums)}
    team_spent = teams_month_to_date([t.pk for t in teams], today=today)
    # Team totals in one query, a UNION ALL of two index reads (models.Deployment.Meta): every deployment counts,
    # from (team, status) alone; only those holding GPUs burn, from the partial index listing just them.
    live = Deployment.objects.filter(team__in=teams).exclude(status=Status.DELETED).order_by()
    columns, zero = ("team_id", "cls", "gpus", "n"), Value(0, output_field=IntegerField())
    counted = live.values("team_id").annotate(cls=Value("", output_field=CharField()), gpus=zero, n=Count("*"))
    holding = (live.filter(gpus_in_use__gt=0).values("team_id", "gpu_class")
               .annotate(cls=F("gpu_class"), gpus=Sum("gpus_in_use"), n=zero))
    count, in_use = {}, []
    rows = counted.values_list(*columns).union(holding.values_list(*columns), all=True).order_by()
    for team_id, gpu_class, gpus, n in rows:
        if n:  # a count row (a team with no deployment has none); the GPU rows carry n = 0
            count[team_id] = n
        else:
            in_use.append({"team_id": team_id, "gpu_class": gpu_class, "gpus": gpus})
    prices = price_book_cached()  # kept per process while the catalog stands: no query on most loads
    cpu_burn = _cpu_burn(teams, prices, now)
    rows = []
    for d in deployments:
        money = spent.get(d.pk, {})
        state, left = scale_to_zero_state(
            d, retention_seconds=spend.retention_seconds(d.retention), min_replicas=_int(d.min_replicas), now=now
        )
        burn = d.gpus_in_use * prices.price_now(d.gpu_class) + cpu_burn.get(d.pk, (None, ZERO))[1]
        rows.append(Row(d, burn.quantize(spend.CENT),
                        spend.money(money.get("today")), spend.money(money.get("month")), state, left))
    totals = _team_totals(teams, team_spent, in_use, count, prices, cpu_burn)
    return {"rows": rows, "teams": totals, "page": page_obj, "all_final": all(r.is_final for r in rows)}


def _cpu_burn(teams, prices, now):
    """{deployment id: (team id, $/hour)} of CPU-node deployments: the vCPUs and RAM of their latest sample
    at the CPU rate in force (one query; GPU deployments have none). Deployments keep no CPU column."""
    latest = (StatusSample.objects.filter(deployment__team__in=teams, deployment__gpu_class="")
              .exclude(deployment__status=Status.DELETED).order_by("deployment_id", "-at")
              .distinct("deployment_id").values_list("deployment_id", "deployment__team_id", "vcpus_in_use",
                                                     "memory_gi_in_use"))
    burn = {}
    for pk, team_id, vcpus, memory in latest:
        if vcpus or memory:
            per_vcpu, per_gb = prices.cpu_rate_at(now)
            burn[pk] = (team_id, vcpus * per_vcpu + memory * per_gb)
    return burn


def _team_totals(teams, team_spent, in_use, count, prices, cpu_burn):
    # Month and today count every deployment of the team, deleted ones too: their spend was real.
    burn = {}
    for row in in_use:
        burn[row["team_id"]] = burn.get(row["team_id"], ZERO) + row["gpus"] * prices.price_now(row["gpu_class"])
    for team_id, dollars in cpu_burn.values():
        burn[team_id] = burn.get(team_id, ZERO) + dollars
    return [
        TeamTotal(
            team=t, spent_usd=spend.money((team_spent.get(t.pk) or {}).get("month")),
            today_usd=spend.money((team_spent.get(t.pk) or {}).get("today")),
            burn_usd_per_hour=burn.get(t.pk, ZERO).quantize(spend.CENT), deployments=count.get(t.pk, 0),
        )
        for t in teams
    ]


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
