"""The fleet overview: GPUs in use, spend by team this month, failing, drift, pending approvals."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from audit.models import Event
from deployments.selectors_fleet import gpus_in_use_by_class_and_region, spend_by_team_this_month
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
