"""Reads for the team dashboard and the deployment page, scoped through deployments/selectors.py.

The dashboard costs a fixed number of queries whatever the number of deployments:
one for the deployments (spec values read in SQL, big JSON deferred), one for
their rolled-up spend, one or two for prices, two for the teams and their budgets.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import yaml
from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, Sum
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.utils import timezone

from teams.models import Team

from . import spend
from .models import DailySpend, Deployment, Event, Status, StatusSample, Target
from .selectors import deployments_for_user, teams_for_user

ZERO = Decimal(0)
RANGES = {
    # key: (label, span, bucket)
    "1h": ("Last hour", timedelta(hours=1), timedelta(minutes=1)),
    "1d": ("Last day", timedelta(days=1), timedelta(minutes=15)),
    "30d": ("30 days", timedelta(days=30), timedelta(days=1)),
}


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
        return spend.budget_level(self.spent_usd, self.team.monthly_budget_usd)


def scale_to_zero_state(d, *, retention_seconds, min_replicas, now):
    """(state, time left in the retention window) as the dashboard shows it."""
    if d.target == Target.ARGO or d.status not in (Status.RUNNING, Status.SCALED_TO_ZERO):
        return "", None
    if d.status == Status.SCALED_TO_ZERO or not d.total_pods:
        return "zero", None
    if d.idle_since:
        # Knative decides to scale to zero after a stable window without requests, then keeps the
        # last pod for the retention period.
        warm = timedelta(seconds=settings.KNATIVE_STABLE_WINDOW_SECONDS + retention_seconds)
        return "warm", max(timedelta(0), d.idle_since + warm - now)
    return ("always_on" if min_replicas else "active"), None


def _scaling_value(key):
    return KeyTextTransform(key, KeyTransform("scaling", "current_revision__spec"))


def dashboard_deployments(user, *, team=None, status=None):
    """The user's deployments for the dashboard, deleted ones only when asked for by status."""
    qs = (
        deployments_for_user(user)
        .select_related(None)
        .select_related("team")
        .defer("status_message", "approval_reason", "decision_reason")
        .annotate(retention=spend.retention_expression(), min_replicas=_scaling_value("min_replicas"),
                  revision_number=F("current_revision__number"))
        .order_by("team__slug", "name")
    )
    if team:
        qs = qs.filter(team__slug=team)
    if status:
        qs = qs.filter(status=status)
    else:
        qs = qs.exclude(status=Status.DELETED)
    return qs


PAGE_SIZE = 50


def dashboard_read(user, *, team=None, status=None, page=1, per_page=PAGE_SIZE):
    """{"rows", "teams", "page", "all_final"} in a constant number of queries.

    Rows are one page of the user's deployments; team totals cover every deployment of the
    team, on any page and whatever the status filter.
    """
    now = timezone.now()
    today = now.date()
    page_obj = Paginator(dashboard_deployments(user, team=team, status=status), per_page).get_page(page)
    deployments = list(page_obj.object_list)
    teams = list(teams_for_user(user).filter(slug=team) if team else teams_for_user(user))
    month = DailySpend.objects.filter(day__gte=today.replace(day=1), day__lte=today)
    sums = {"month": Sum("cost_usd"), "today": Sum("cost_usd", filter=Q(day=today))}
    spent = {row["deployment_id"]: row for row in month.filter(deployment__in=[d.pk for d in deployments])
             .values("deployment_id").annotate(**sums)}
    team_spent = {row["team_id"]: row for row in month.filter(team__in=teams).values("team_id").annotate(**sums)}
    # GPUs in use by team and class, for every deployment of the shown teams (burn rate totals).
    in_use = list(Deployment.objects.filter(team__in=teams).exclude(status=Status.DELETED)
                  .values("team_id", "gpu_class").annotate(gpus=Sum("gpus_in_use"), count=Count("id")))
    prices = spend.PriceBook({d.gpu_class for d in deployments} | {row["gpu_class"] for row in in_use})
    rows = []
    for d in deployments:
        money = spent.get(d.pk, {})
        state, left = scale_to_zero_state(
            d, retention_seconds=spend.retention_seconds(d.retention), min_replicas=_int(d.min_replicas), now=now
        )
        rows.append(Row(d, (d.gpus_in_use * prices.price_now(d.gpu_class)).quantize(spend.CENT),
                        spend.money(money.get("today")), spend.money(money.get("month")), state, left))
    totals = _team_totals(teams, team_spent, in_use, prices)
    return {"rows": rows, "teams": totals, "page": page_obj, "all_final": all(r.is_final for r in rows)}


def _team_totals(teams, team_spent, in_use, prices):
    # Month and today count every deployment of the team, deleted ones too: their spend was real.
    burn, count = {}, {}
    for row in in_use:
        burn[row["team_id"]] = burn.get(row["team_id"], ZERO) + row["gpus"] * prices.price_now(row["gpu_class"])
        count[row["team_id"]] = count.get(row["team_id"], 0) + row["count"]
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


def deployment_events(deployment, *, limit=50):
    return list(Event.objects.filter(deployment=deployment).select_related("actor")[:limit])


def deployment_revisions(deployment):
    return list(deployment.revisions.select_related("created_by").defer("manifests").order_by("-number"))


def deployment_manifests_yaml(deployment):
    """The current revision's objects as one YAML stream ('' when there is no revision)."""
    from .services.lifecycle import revision_manifests

    if not deployment.current_revision_id:
        return ""
    try:
        objects = revision_manifests(deployment, deployment.current_revision)
    except (KeyError, TypeError, ValueError) as exc:
        # A stored spec the renderer no longer accepts must not take the whole page down.
        return f"# The manifests of this revision could not be rendered: {exc!r}\n"
    return yaml.safe_dump_all(objects, sort_keys=False)


def deployment_chart(deployment, range_key, *, now=None):
    """Pods and spend over the range: {"range", "labels", "ready", "total", "cost"} (JSON-serialisable)."""
    now = now or timezone.now()
    label, span, bucket = RANGES.get(range_key) or RANGES["1h"]
    range_key = range_key if range_key in RANGES else "1h"
    if range_key == "30d":
        return _chart_days(deployment, now, range_key)
    start = now - span
    series = list(
        StatusSample.objects.filter(deployment=deployment, at__gte=start - spend.max_sample_gap(), at__lt=now)
        .order_by("at").values_list("at", "status", "ready_pods", "total_pods", "gpus_in_use", "gpu_class")
    )
    edges = [start + bucket * i for i in range(int(span / bucket) + 1)]
    ready, total = _pods_by_bucket(series, edges)
    samples = [(s[0], s[1], s[4], s[5]) for s in series]
    runs = spend.runs_from_samples(samples, until=now)
    prices = spend.series_prices(deployment, samples)
    cost = [
        float(spend.meter_runs(runs, gpu_class=deployment.gpu_class, prices=prices, start=a, end=b).cost_usd
              .quantize(Decimal("0.0001")))
        for a, b in zip(edges, edges[1:])
    ]
    fmt = "%H:%M" if range_key == "1h" else "%d %b %H:%M"
    return {"range": range_key, "range_label": label, "labels": [e.strftime(fmt) for e in edges[:-1]],
            "ready": ready, "total": total, "cost": cost, "cost_label": f"USD per {_bucket_name(bucket)}"}


def _bucket_name(bucket):
    return "minute" if bucket == timedelta(minutes=1) else "15 minutes" if bucket < timedelta(days=1) else "day"


def _pods_by_bucket(series, edges):
    """The most pods seen in each bucket; a bucket with no sample carries the last value while it is fresh."""
    gap = spend.max_sample_gap()
    ready, total, i, last = [], [], 0, None
    for a, b in zip(edges, edges[1:]):
        seen = []
        while i < len(series) and series[i][0] < b:
            if series[i][0] >= a:
                seen.append(series[i])
            last = series[i]
            i += 1
        if not seen and last is not None and a - last[0] <= gap:
            seen = [last]
        ready.append(max((s[2] for s in seen), default=0))
        total.append(max((s[3] for s in seen), default=0))
    return ready, total


def _chart_days(deployment, now, range_key):
    today = now.date()
    days = [today - timedelta(days=n) for n in range(29, -1, -1)]
    rolled = {
        r["day"]: r for r in DailySpend.objects.filter(deployment=deployment, day__gte=days[0])
        .values("day", "gpu_hours", "cost_usd")
    }
    per_pod = max(deployment.gpus_per_replica, 1)

    def hours_in(day):
        start = datetime.combine(day, time.min, tzinfo=UTC)
        return Decimal(min(24 * 3600, max(0, (now - start).total_seconds()))) / 3600 or Decimal(24)

    avg = [float((rolled[d]["gpu_hours"] / per_pod / hours_in(d)).quantize(Decimal("0.01"))) if d in rolled else 0
           for d in days]
    return {"range": range_key, "range_label": RANGES[range_key][0], "labels": [d.strftime("%d %b") for d in days],
            "ready": avg, "total": avg, "cost": [float(rolled[d]["cost_usd"]) if d in rolled else 0 for d in days],
            "cost_label": "USD per day", "pods_label": "Average pods"}
