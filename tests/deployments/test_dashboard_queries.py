"""The dashboard at growing sizes: the same SQL queries at 6 and at 240 deployments, for a member of two teams and
for staff, and team totals that equal the deployments' spend rows summed."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.pricebook import PriceBook
from deployments.models import Deployment
from deployments.selectors_dashboard import dashboard_read
from specs.vocabulary import Status
from spend import rollups
from spend.models import DailySpend
from teams.models import Role
from tests.factories import DeploymentFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def grow(team, n, start):
    """n more deployments in the team, each with a spend row for every day of this month so far (up to 10 days),
    and the team's daily rollup as the rollup task leaves it."""
    today = timezone.now().date()
    days = [today - timedelta(days=k) for k in range(min(today.day, 10))]
    for i in range(start, start + n):
        d = DeploymentFactory(team=team, name=f"svc-{i:04d}", status=(Status.RUNNING, Status.SCALED_TO_ZERO)[i % 2],
                              gpus_in_use=1 - i % 2, ready_pods=1 - i % 2, total_pods=1 - i % 2)
        DailySpend.objects.bulk_create(DailySpend(deployment=d, team=team, day=day, cost_usd=Decimal("1.25"),
                                                  gpu_hours=1) for day in days)
    for day in days:
        rollups.team_spend_refresh(day=day)


def views(client):
    """The requests a dashboard user makes: the page, its poll, a team filter, the second page."""
    out = {}
    for label, url, headers in (("page", "/", {}), ("poll", "/", {"HX-Request": "true"}),
                                ("filtered", "/?team=nlp", {}), ("page 2", "/?page=2", {})):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, headers=headers)
        assert response.status_code in (200, 286), (label, response.status_code)
        out[label] = [q["sql"] for q in queries.captured_queries]
    return out


def test_query_count_is_the_same_at_6_and_at_240_deployments(team, other_team, owner, staff, login):
    MembershipFactory(user=owner, team=other_team, role=Role.VIEWER)  # a member of two teams
    grow(team, 4, 0)
    grow(other_team, 2, 1000)
    member, platform = login(owner), login(staff)
    views(member)  # the price book is read once per process while the catalog stands (catalog.cache)
    small = {"member": views(member), "staff": views(platform)}
    grow(team, 200, 4)
    grow(other_team, 34, 1002)
    large = {"member": views(member), "staff": views(platform)}
    for who in small:
        for label, queries in large[who].items():
            assert len(queries) == len(small[who][label]), (who, label, queries)
            # Scoped by a subquery: no DISTINCT over whole deployment rows, for the page or its count.
            assert not [q for q in queries if 'SELECT DISTINCT "deployments_deployment"' in q], (who, label)
    assert len(large["member"]["page"]) <= 10


def test_team_totals_equal_the_sum_of_the_deployments_spend_rows(team, other_team, owner):
    MembershipFactory(user=owner, team=other_team, role=Role.VIEWER)
    grow(team, 60, 0)
    grow(other_team, 5, 1000)
    today = timezone.now().date()
    cards = {t.team.slug: t for t in dashboard_read(owner)["teams"]}
    for t in (team, other_team):
        rows = DailySpend.objects.filter(team=t, day__gte=today.replace(day=1), day__lte=today)
        month = rows.aggregate(cost=Sum("cost_usd"))["cost"]
        today_usd = rows.filter(day=today).aggregate(cost=Sum("cost_usd"))["cost"]
        assert (cards[t.slug].spent_usd, cards[t.slug].today_usd) == (month.quantize(Decimal("0.01")),
                                                                      today_usd.quantize(Decimal("0.01")))
        assert cards[t.slug].deployments == Deployment.objects.filter(team=t).count()
        # Burn: the GPUs every deployment holds now at its class's price, summed over the team.
        prices = PriceBook()
        burn = sum(d.gpus_in_use * prices.price_now(d.gpu_class) for d in Deployment.objects.filter(team=t))
        assert burn > 0 and cards[t.slug].burn_usd_per_hour == burn.quantize(Decimal("0.01"))
