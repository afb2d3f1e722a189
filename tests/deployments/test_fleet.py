"""The fleet overview: one row per cluster, GPUs in use, spend by team this month, failing, drift, pending approvals."""

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import Event
from deployments.selectors_fleet import (
    DEFAULT_CLUSTER_NAME,
    gpus_in_use_by_class_and_region,
    spend_by_team_this_month,
)
from specs.vocabulary import Status
from spend.models import DailySpend
from tests.factories import DeploymentFactory


def test_gpus_in_use_are_summed_by_class_and_region(team, other_team):
    DeploymentFactory(team=team, gpu_class="A100_NVLINK_80GB", region="LAS1", gpus_in_use=4)
    DeploymentFactory(team=other_team, gpu_class="A100_NVLINK_80GB", region="LAS1", gpus_in_use=2,
                      status=Status.SCALED_TO_ZERO)
    DeploymentFactory(team=team, gpu_class="A100_NVLINK_80GB", region="LAS1", gpus_in_use=8, status=Status.DELETED)
    rows = gpus_in_use_by_class_and_region()
    assert [(r["gpu_class"], r["region"], r["gpus"], r["deployments"]) for r in rows] == [
        ("A100_NVLINK_80GB", "LAS1", 6, 2)]
    assert rows[0]["free"] is not None  # LAS1 offers A100s in the seeded catalog


def test_spend_counts_this_month_only(team, other_team):
    deployment = DeploymentFactory(team=team)
    today = timezone.localdate()
    DailySpend.objects.create(deployment=deployment, team=team, day=today, cost_usd=120, gpu_hours=40)
    DailySpend.objects.create(deployment=deployment, team=team, day=today.replace(day=1) - timedelta(days=1),
                              cost_usd=999, gpu_hours=300)
    rows = {r["team"].slug: r for r in spend_by_team_this_month()}
    assert rows["nlp"]["spend"] == 120 and rows["vision"]["spend"] == 0


def test_fleet_page_shows_what_needs_attention(login, staff, team, other_team):
    DeploymentFactory(team=team, name="broken", status=Status.FAILED, status_message="ImagePullBackOff: no such tag")
    drifted = DeploymentFactory(team=other_team, name="tinkered", drift_detected_at=timezone.now())
    Event.objects.create(deployment=drifted, team=other_team, kind=Event.Kind.DRIFT,
                         message="replicas changed in the cluster")
    DeploymentFactory(team=team, name="huge", status=Status.PENDING_APPROVAL, approval_reason="over budget")
    DailySpend.objects.create(deployment=drifted, team=other_team, day=timezone.localdate(), cost_usd="432.10")
    page = login(staff).get(reverse("fleet"))
    text = page.text
    assert "nlp/broken" in text and "ImagePullBackOff: no such tag" in text
    assert "vision/tinkered" in text and "replicas changed in the cluster" in text
    assert "nlp/huge" in text and "Review 1 pending approval" in text
    assert "$432.10" in text
    assert page.context["pending_count"] == 1


# --- one row per cluster (issue 17): two sandbox API servers, one of them cut off or slow ---

def _cluster(name, sandbox, *regions, **fields):
    from catalog.models import Region
    from clusters.models import Cluster

    cluster = Cluster.objects.create(name=name, kubeconfig_path=sandbox.kubeconfig_path, **fields)
    cluster.regions.set(Region.objects.filter(code__in=regions))
    return cluster


def _rows(page):
    return {row["name"]: row for row in page.context["clusters"]}


@pytest.mark.timeout(30)
def test_each_cluster_has_a_row_and_an_unreachable_one_does_not_break_the_page(
        login, staff, team, sandbox, sandbox_b, settings):
    settings.KUBECONFIG = ""
    _cluster("las", sandbox, "LAS1")
    _cluster("ord", sandbox_b, "ORD1", draining=True)
    synced = timezone.now() - timedelta(minutes=3)
    DeploymentFactory(team=team, name="vegas", region="LAS1", last_synced_at=synced)
    DeploymentFactory(team=team, name="reno", region="LAS1", last_synced_at=synced - timedelta(hours=1))
    DeploymentFactory(team=team, name="chicago", region="ORD1", last_synced_at=synced - timedelta(hours=2))
    DeploymentFactory(team=team, name="gone", region="ORD1", status=Status.DELETED)
    sandbox_b.drop_next("*", ".*", times=1000)  # every connection to ord is cut

    page = login(staff).get(reverse("fleet"))

    assert page.status_code == 200
    rows = _rows(page)
    assert list(rows) == ["las", "ord"]  # no default cluster: not configured and nothing routed to it
    las, ord_ = rows["las"], rows["ord"]
    assert las["probe"].reachable and las["probe"].version.startswith("v")
    assert las["probe"].latency_ms is not None and las["probe"].latency_ms < 2000
    assert las["regions"] == ["LAS1"] and las["deployments_by_region"] == [("LAS1", 2)]
    assert las["last_synced_at"] == synced
    assert not ord_["probe"].reachable and "cannot reach" in ord_["probe"].reason
    assert ord_["deployments"] == 1 and ord_["draining"]  # the deleted one is not on the cluster any more
    assert ord_["last_synced_at"] == synced - timedelta(hours=2)
    assert [r.path for r in sandbox.requests] == ["/version"]  # one cheap call per cluster
    text = page.text
    assert 'id="cluster-las"' in text and 'id="cluster-ord"' in text and "unreachable" in text
    assert "draining" in text and las["probe"].version in text


@pytest.mark.timeout(30)
def test_a_slow_cluster_costs_at_most_the_probe_timeout(login, staff, sandbox, sandbox_b, settings):
    settings.KUBECONFIG = ""
    settings.KUBE_PROBE_TIMEOUT = 0.5
    _cluster("las", sandbox, "LAS1")
    _cluster("ord", sandbox_b, "ORD1")
    sandbox_b.delay("GET", "^/version", 3)

    started = time.monotonic()
    rows = _rows(login(staff).get(reverse("fleet")))
    assert time.monotonic() - started < 2.5
    assert rows["las"]["probe"].reachable
    assert not rows["ord"]["probe"].reachable and "timed out" in rows["ord"]["probe"].reason.lower()


def test_the_default_cluster_has_its_row_with_the_regions_no_record_serves(login, staff, team, sandbox, sandbox_b,
                                                                          settings):
    settings.KUBECONFIG = sandbox.kubeconfig_path
    _cluster("ord", sandbox_b, "ORD1")
    _cluster("spare", sandbox_b, "LGA1", enabled=False)
    DeploymentFactory(team=team, name="vegas", region="LAS1")
    DeploymentFactory(team=team, name="newyork", region="LGA1")  # its cluster is disabled: on the default

    rows = _rows(login(staff).get(reverse("fleet")))

    assert list(rows) == ["ord", "spare", DEFAULT_CLUSTER_NAME]
    default = rows[DEFAULT_CLUSTER_NAME]
    assert default["probe"].reachable and "LAS1" in default["regions"] and "ORD1" not in default["regions"]
    assert default["deployments_by_region"] == [("LAS1", 1), ("LGA1", 1)]
    assert not rows["spare"]["enabled"] and rows["spare"]["deployments"] == 0


def test_without_any_cluster_the_default_row_says_it_is_not_configured(login, staff, settings):
    settings.KUBECONFIG = ""
    rows = _rows(login(staff).get(reverse("fleet")))
    assert list(rows) == [DEFAULT_CLUSTER_NAME]
    assert not rows[DEFAULT_CLUSTER_NAME]["probe"].reachable
    assert "not configured" in rows[DEFAULT_CLUSTER_NAME]["probe"].reason
