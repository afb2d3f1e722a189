"""The team dashboard: what each persona sees, budgets, live polling, and a flat query count."""

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deployments.services.sync import status_sync
from specs.vocabulary import Status, Target, Workload
from spend.models import DailySpend
from tests.cluster_helpers import deployment_pushed
from tests.factories import DeploymentFactory, TeamFactory, batch_spec, online_spec

pytestmark = pytest.mark.django_db
A100 = Decimal("2.70")  # A100_NVLINK_80GB's current catalog price


def htmx(client, url):
    return client.get(url, headers={"HX-Request": "true"})


def test_owner_sees_pods_gpus_burn_and_spend(team, owner, login):
    d = DeploymentFactory(team=team, name="llama-chat", ready_pods=2, total_pods=3, gpus_in_use=4)
    DailySpend.objects.create(deployment=d, team=team, day=timezone.now().date(), cost_usd=Decimal("12.3456"),
                              gpu_hours=Decimal("4.5"))
    page = login(owner).get("/").content.decode()
    row = page[page.index('id="dep-%d"' % d.pk):]
    row = row[: row.index("</tr>")]
    assert "llama-chat" in row and "Running" in row
    assert '<span class="pods-ready">2</span><span class="muted">/3</span>' in row
    assert '>4</td>' in row                                   # GPUs in use
    assert "$10.80" in row                                    # burn: 4 GPUs × $2.70/h
    assert row.count("$12.35") == 2                           # today and month to date
    assert "A100_NVLINK_80GB" in row and "LAS1" in row


def test_outsider_sees_none_of_another_teams_deployments_or_numbers(team, owner, outsider, login):
    d = DeploymentFactory(team=team, name="secret-model", gpus_in_use=2)
    DailySpend.objects.create(deployment=d, team=team, day=timezone.now().date(), cost_usd=Decimal("987.65"))
    for response in (login(outsider).get("/"), htmx(login(outsider), "/"), login(outsider).get("/?team=nlp")):
        body = response.content.decode()
        assert "secret-model" not in body
        assert "987.65" not in body and "$5.40" not in body
        assert 'id="team-nlp"' not in body


def test_team_budget_bar_warns_at_80_and_100_percent(team, owner, login):
    team.monthly_budget_usd = Decimal(100)
    team.save()
    d = DeploymentFactory(team=team)
    row = DailySpend.objects.create(deployment=d, team=team, day=timezone.now().date(), cost_usd=Decimal("79"))
    client = login(owner)

    def card():
        body = client.get("/").content.decode()
        start = body.index('id="team-nlp"')
        return body[start: body.index("</p>", start)]

    assert 'class="bar"' in card() and "79% of the monthly budget" in card()
    row.cost_usd = Decimal("80")
    row.save()
    assert 'class="bar warn"' in card() and "nearing the budget" in card()
    row.cost_usd = Decimal("130")
    row.save()
    assert 'class="bar over"' in card() and "over budget" in card() and "width: 100%" in card()


def test_scale_to_zero_states(team, owner, login):
    now = timezone.now()
    zero = DeploymentFactory(team=team, name="zero", status=Status.SCALED_TO_ZERO)
    warm = DeploymentFactory(team=team, name="warm", total_pods=1, ready_pods=1, gpus_in_use=1,
                             idle_since=now - timedelta(minutes=10),
                             revision=online_spec(name="warm", scaling={"min_replicas": 0, "max_replicas": 2,
                                                                        "scale_to_zero_retention": "30m"}))
    busy = DeploymentFactory(team=team, name="busy", total_pods=2, ready_pods=2, gpus_in_use=2)
    body = login(owner).get("/").content.decode()

    def cell(d):
        row = body[body.index('id="dep-%d"' % d.pk):]
        return row[row.index('data-testid="stz"'): row.index("</tr>")]

    assert "Scaled to zero" in cell(zero)
    # 10 minutes idle of a 1 min stable window + 30 min retention: about 21 minutes left.
    assert "Warm" in cell(warm) and ("20m" in cell(warm) or "21m" in cell(warm)) and "left" in cell(warm)
    assert "Active" in cell(busy)


@pytest.mark.timeout(60)
def test_the_warm_countdown_shows_on_a_sandbox_that_writes_no_gantry_annotation(sandbox, sandbox_kubeconfig,
                                                                                deployer, owner, login):
    d = deployment_pushed(deployer, name="warm", scaling={"min_replicas": 0, "max_replicas": 2,
                                                         "scale_to_zero_retention": "30m"})
    sandbox.simulator.set_traffic("tenant-nlp", "warm", "idle")
    for _ in range(4):  # the pod starts, the stable window (60 s) passes without requests, 120 s of retention
        sandbox.simulator.tick()
        sandbox.simulator.advance(60)
    sandbox.simulator.tick()
    status_sync()

    body = login(owner).get("/").content.decode()
    row = body[body.index('id="dep-%d"' % d.pk):]
    cell = row[row.index('data-testid="stz"'): row.index("</tr>")]
    # Inactive for 3 of the 30 minutes of retention: 27 minutes left, as Knative's Revision tells it.
    assert "Warm" in cell and re.search(r"2[67]m \d+s left", cell), cell
    page = login(owner).get(f"/deployments/{d.pk}/").content.decode()
    assert re.search(r"Warm</span> 2[67]m \d+s left", page)

    stored = [obj for kind in ("pods", "services.serving.knative.dev", "revisions.serving.knative.dev",
                               "configurations.serving.knative.dev", "routes.serving.knative.dev")
              for obj in sandbox.objects(kind, "tenant-nlp")]
    assert len(stored) >= 5
    assert not [obj["metadata"]["name"] for obj in stored
                if "gantry.io" in json.dumps(obj.get("status") or {}) or "idle-since" in json.dumps(obj)]


def test_htmx_poll_returns_the_live_part_and_stops_when_everything_is_final(team, owner, login):
    client = login(owner)
    d = DeploymentFactory(team=team, status=Status.RUNNING, total_pods=1, ready_pods=1)
    response = htmx(client, "/")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="live"') and "<html" not in body
    assert 'hx-trigger="every 3s"' in body

    d.status = Status.FAILED
    d.save()
    assert htmx(client, "/").status_code == 286


def test_staff_see_every_team_and_can_filter(team, other_team, staff, owner, login):
    DeploymentFactory(team=team, name="nlp-one", status=Status.RUNNING)
    DeploymentFactory(team=team, name="nlp-two", status=Status.FAILED)
    DeploymentFactory(team=other_team, name="vision-one", status=Status.RUNNING)
    client = login(staff)
    body = client.get("/").content.decode()
    assert all(n in body for n in ("nlp-one", "nlp-two", "vision-one"))
    body = client.get("/?team=vision").content.decode()
    assert "vision-one" in body and "nlp-one" not in body
    body = client.get("/?status=failed").content.decode()
    assert "nlp-two" in body and "nlp-one" not in body and "vision-one" not in body
    # A member does not see other teams even with the team filter.
    assert "vision-one" not in login(owner).get("/?team=vision").content.decode()


def _fill(team, n, start):
    today = timezone.now().date()
    for i in range(n):
        kind = i % 3
        d = DeploymentFactory(
            team=team, name=f"svc-{start + i}", total_pods=kind, ready_pods=kind, gpus_in_use=kind,
            status=Status.SCALED_TO_ZERO if kind == 0 else Status.RUNNING,
            idle_since=timezone.now() if kind == 2 else None,
            **({"workload": Workload.BATCH, "target": Target.ARGO, "revision": batch_spec(name=f"svc-{start + i}")}
               if i % 7 == 0 else {}),
        )
        DailySpend.objects.bulk_create(
            DailySpend(deployment=d, team=team, day=today - timedelta(days=k), cost_usd=Decimal(k), gpu_hours=1)
            for k in range(3)
        )


def test_query_count_does_not_grow_with_deployments(team, owner, login):
    client = login(owner)
    _fill(team, 5, 0)
    _fill(TeamFactory(slug="other"), 3, 100)
    with CaptureQueriesContext(connection) as small:
        assert client.get("/").status_code == 200
    _fill(team, 55, 5)
    with CaptureQueriesContext(connection) as large:
        body = client.get("/").content.decode()
    assert body.count('<tr id="dep-') == 50  # one page
    assert "1–50 of 60" in body and "Page 1 of 2" in body
    assert "60 deployments" in body  # the team card counts every page
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]
    assert len(large) <= 12
    second = client.get("/?page=2").content.decode()
    assert second.count('<tr id="dep-') == 10 and "51–60 of 60" in second


@pytest.mark.timeout(60)
def test_dashboard_numbers_match_the_pods_in_the_sandbox_after_a_sync(sandbox, sandbox_kubeconfig, deployer, login):
    from deployments.services.sync import status_sync
    from tests.cluster_helpers import deployment_pushed

    from .test_sync import running_pods_by_deployment, simulate

    deployments = {}
    for i, max_replicas in enumerate((2, 4, 6)):
        d = deployment_pushed(deployer, name=f"svc-{i}",
                              scaling={"min_replicas": 0, "max_replicas": max_replicas, "scale_to_zero_retention": "1m"})
        sandbox.simulator.set_traffic("tenant-nlp", d.name, "steady")
        deployments[d.name] = d
    simulate(sandbox)
    status_sync()
    truth = running_pods_by_deployment(sandbox, "tenant-nlp")
    assert sum(truth.values()) > 3

    def cells():
        body = login(deployer).get("/").content.decode()
        out = {}
        for name, d in deployments.items():
            row = body[body.index('id="dep-%d"' % d.pk):]
            row = row[: row.index("</tr>")]
            ready = int(row.split('class="pods-ready">')[1].split("<")[0])
            gpus = int(row.split('data-testid="gpus">')[1].split("<")[0])
            out[name] = (ready, gpus, "Scaled to zero" in row)
        return out

    seen = cells()
    for name, d in deployments.items():
        assert seen[name] == (truth[name], truth[name] * d.gpus_per_replica, False), name

    # Traffic stops for one service: after the stable window and retention it is at zero on the dashboard.
    sandbox.simulator.set_traffic("tenant-nlp", "svc-1", "idle")
    simulate(sandbox, seconds=120, steps=3)
    status_sync()
    truth = running_pods_by_deployment(sandbox, "tenant-nlp")
    assert "svc-1" not in truth
    seen = cells()
    assert seen["svc-1"] == (0, 0, True)
    assert seen["svc-2"][0] == truth["svc-2"]
