"""The per-team daily rollup (TeamDailySpend): what month-to-date reads must equal the deployments' rows summed."""

import importlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from spend import budgets, rollups
from spend.models import DailySpend, TeamDailySpend
from spend.selectors import teams_month_to_date
from tests.factories import DeploymentFactory, TeamFactory

from .test_metering import at, deployment, gpu, samples  # noqa: F401 (gpu: the $2 class fixture)

pytestmark = pytest.mark.django_db


def detail_by_team_and_day():
    return {(r["team_id"], r["day"]): (r["gpu"], r["cost"], r["warm"]) for r in DailySpend.objects.values(
        "team_id", "day").annotate(gpu=Sum("gpu_hours"), cost=Sum("cost_usd"), warm=Sum("warm_cost_usd")).order_by()}


def rollup_by_team_and_day():
    return {(r.team_id, r.day): (r.gpu_hours, r.cost_usd, r.warm_cost_usd) for r in TeamDailySpend.objects.all()}


def test_the_rollup_task_keeps_each_teams_day_equal_to_its_deployments_rows(team, other_team, gpu):
    today = timezone.now().date()
    days = [today - timedelta(days=2), today - timedelta(days=1)]
    a, b = deployment(team, name="alpha"), deployment(team, name="beta", retention="5m")
    c = deployment(other_team, name="gamma", gpus_per_replica=1)
    for k, day in enumerate(days):
        samples(a, at(day, 9), 60, pods=1)                    # 2 GPUs × 1 h × $2 = $4 a day
        samples(b, at(day, 13), 30 + 30 * k, pods=2)          # 4 GPUs for 30 min, then for 60 min
        samples(c, at(day, 20), 90, pods=3, gpus_per_pod=1)
    for day in days:
        rollups.spend_rollup(day=day)
    assert len(rollup_by_team_and_day()) == 4 and rollup_by_team_and_day() == detail_by_team_and_day()
    assert TeamDailySpend.objects.get(team=team, day=days[0]).cost_usd > Decimal(4)

    # Late samples land and the day is rolled up again: the team's row follows its deployments' rows.
    samples(a, at(days[1], 15), 120, pods=2)
    rollups.spend_rollup(day=days[1])
    assert rollup_by_team_and_day() == detail_by_team_and_day()
    # The month to date: those of the two days that are in this month (early in a month, not both).
    this_month = [day for day in days if day.month == today.month]
    total = DailySpend.objects.filter(team=team, day__in=this_month).aggregate(cost=Sum("cost_usd"))["cost"]
    assert teams_month_to_date([team.pk]).get(team.pk, {}).get("month") == total


def test_month_to_date_is_the_closed_days_of_the_rollup_plus_todays_rows(team, other_team):
    today = date(2026, 11, 30)
    d, e = DeploymentFactory(team=team, name="one"), DeploymentFactory(team=team, name="two")
    outside = DeploymentFactory(team=other_team, name="three")
    for day, cost in ((date(2026, 10, 31), "500"), (date(2026, 11, 1), "10"), (date(2026, 11, 29), "20.5"),
                      (today, "3.25")):
        for dep in (d, e, outside):
            DailySpend.objects.create(deployment=dep, team=dep.team, day=day, cost_usd=Decimal(cost),
                                      warm_cost_usd=Decimal("0.5"))
        rollups.team_spend_refresh(day=day)
    totals = teams_month_to_date([team.pk], today=today)
    # Two deployments × (10 + 20.5 + 3.25); October is another month; the other team is not asked for.
    assert totals == {team.pk: {"month": Decimal("67.5"), "today": Decimal("6.5"), "warm": Decimal("3")}}
    assert budgets.team_month_to_date(team=team, today=today)["spent_usd"] == Decimal("67.50")
    # Today's rows are read as they are: the rollup task rewrites them all day.
    DailySpend.objects.filter(deployment=d, day=today).update(cost_usd=Decimal("100"))
    assert teams_month_to_date([team.pk], today=today)[team.pk]["month"] == Decimal("164.25")


def test_month_to_date_is_one_query_whatever_the_number_of_teams_and_rows():
    today = date(2026, 11, 30)
    teams = [TeamFactory(slug=f"team-{i}") for i in range(3)]
    for team in teams:
        for i in range(4):
            dep = DeploymentFactory(team=team, name=f"svc-{i}")
            DailySpend.objects.bulk_create(DailySpend(deployment=dep, team=team, day=today - timedelta(days=k),
                                                      cost_usd=Decimal(1)) for k in range(10))
    for k in range(10):
        rollups.team_spend_refresh(day=today - timedelta(days=k))
    with CaptureQueriesContext(connection) as queries:
        totals = teams_month_to_date([t.pk for t in teams], today=today)
    assert len(queries) == 1
    assert {t.slug: totals[t.pk]["month"] for t in teams} == {t.slug: Decimal(40) for t in teams}


def test_the_migration_backfills_the_rollup_from_the_existing_rows(team, other_team):
    for dep_team, name in ((team, "one"), (team, "two"), (other_team, "three")):
        dep = DeploymentFactory(team=dep_team, name=name)
        DailySpend.objects.bulk_create(DailySpend(deployment=dep, team=dep_team, day=date(2026, 11, k),
                                                  gpu_hours=Decimal(k), cost_usd=Decimal(k) * 2,
                                                  warm_cost_usd=Decimal("0.25")) for k in range(1, 6))
    TeamDailySpend.objects.all().delete()
    backfill = importlib.import_module("spend.migrations.0004_team_daily_spend").BACKFILL
    with connection.cursor() as cursor:
        cursor.execute(backfill)
    assert len(rollup_by_team_and_day()) == 10 and rollup_by_team_and_day() == detail_by_team_and_day()
