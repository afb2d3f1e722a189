"""Spend reports for a team or a deployment, read from the daily rollups."""

from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone

from catalog.cache import price_book_cached

from .metering import ZERO, money
from .models import DailySpend, StatusSample, TeamDailySpend


def month_to_date_sql(team_id, *, today=None):
    """(sql, params): a subquery of one row, `month`, `today` and `warm` in dollars (unrounded) and `has_spend`
    (whether the team has spend rows this month), for the team whose id is the SQL expression `team_id` (a
    column of the caller's query, never user input); for a LATERAL join. The days before today come from the
    team rollup (TeamDailySpend, about 30 rows a team), today from DailySpend, whose rows the rollup task
    rewrites all day long: two index reads whatever the number of deployments. SQL so that a create's budget
    check reads it in the statement that sums its quota."""
    today = today or timezone.now().date()
    closed, live = TeamDailySpend._meta.db_table, DailySpend._meta.db_table
    sums = "SUM(cost_usd) AS cost, SUM(warm_cost_usd) AS warm"
    sql = (f"SELECT COALESCE(c.cost, 0) + COALESCE(l.cost, 0) AS month, COALESCE(l.cost, 0) AS today, "
           f"COALESCE(c.warm, 0) + COALESCE(l.warm, 0) AS warm, "
           f"(c.cost IS NOT NULL OR l.cost IS NOT NULL) AS has_spend "
           f'FROM (SELECT {sums} FROM "{closed}" WHERE team_id = {team_id} AND day >= %s AND day < %s) c, '
           f'(SELECT {sums} FROM "{live}" WHERE team_id = {team_id} AND day = %s) l')
    return sql, [today.replace(day=1), today, today]


def teams_month_to_date(team_ids, *, today=None):
    """{team id: {"month", "today", "warm"}} in dollars, unrounded, from the 1st to `today` (month_to_date_sql),
    in one query whatever the number of deployments. Teams without spend are absent."""
    sql, params = month_to_date_sql("t.id", today=today)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT t.id, m.month, m.today, m.warm FROM unnest(%s::bigint[]) AS t(id) "
                       f"CROSS JOIN LATERAL ({sql}) m WHERE m.has_spend", [list(team_ids), *params])
        return {team_id: {"month": month, "today": today_, "warm": warm}
                for team_id, month, today_, warm in cursor.fetchall()}


def team_spend_by_day(*, team, start, end):
    """Spend of a team from `start` to `end` (dates, inclusive), by day and by deployment, from DailySpend."""
    rows = (
        DailySpend.objects.filter(team=team, day__gte=start, day__lte=end)
        .values("day", "deployment_id", "deployment__name", "cost_usd", "gpu_hours", "warm_cost_usd")
        .order_by("day", "deployment__name")
    )
    days, by_deployment = {}, {}
    for r in rows:
        day = days.setdefault(r["day"], {"day": r["day"], "cost_usd": ZERO, "gpu_hours": ZERO,
                                         "warm_cost_usd": ZERO, "deployments": []})
        dep = by_deployment.setdefault(r["deployment_id"], {"id": r["deployment_id"], "name": r["deployment__name"],
                                                            "cost_usd": ZERO, "gpu_hours": ZERO, "warm_cost_usd": ZERO})
        for key in ("cost_usd", "gpu_hours", "warm_cost_usd"):
            day[key] += r[key]
            dep[key] += r[key]
        day["deployments"].append({"id": r["deployment_id"], "name": r["deployment__name"],
                                   "cost_usd": money(r["cost_usd"]), "gpu_hours": r["gpu_hours"]})
    for item in [*days.values(), *by_deployment.values()]:
        item["cost_usd"], item["warm_cost_usd"] = money(item["cost_usd"]), money(item["warm_cost_usd"])
    return {
        "team": team.slug, "from": start, "to": end, "currency": "USD",
        "total_usd": money(sum((d["cost_usd"] for d in days.values()), ZERO)),
        "days": list(days.values()),
        "deployments": sorted(by_deployment.values(), key=lambda d: (-d["cost_usd"], d["name"])),
    }


def deployment_spend_summary(*, deployment, prices=None, created=False):
    """Today, month to date (rolled up) and the burn rate now ($/h = GPUs in use × current price; on CPU nodes
    the vCPUs and GiB the running pods requested × the CPU rate). `created`: the deployment was created by this
    request, so it has no spend and no status sample yet, and neither is read."""
    today = timezone.now().date()
    totals = {"month": None, "today": None, "warm": None} if created else DailySpend.objects.filter(
        deployment=deployment, day__gte=today.replace(day=1), day__lte=today).aggregate(
        month=Sum("cost_usd"), today=Sum("cost_usd", filter=Q(day=today)), warm=Sum("warm_cost_usd"))
    prices = prices or price_book_cached()
    price = prices.price_now(deployment.gpu_class)
    burn = deployment.gpus_in_use * price
    latest = StatusSample.objects.filter(deployment=deployment).order_by("-at").values_list(
        "vcpus_in_use", "memory_gi_in_use").first() if not deployment.gpu_class and not created else None
    if latest:
        # CPU nodes: what the running pods requested at the latest sample, at the CPU rate in force now.
        per_vcpu, per_gb = prices.cpu_rate_at(timezone.now())
        burn += latest[0] * per_vcpu + latest[1] * per_gb
    return {
        "today_usd": money(totals["today"]), "month_usd": money(totals["month"]),
        "warm_month_usd": money(totals["warm"]),
        "price_per_gpu_hour": price, "burn_rate_usd_per_hour": money(burn),
    }
