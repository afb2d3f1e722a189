"""The dashboard in Chromium: pod counts change live (htmx polling) as the cluster scales."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from deployments.services.sync import status_sync
from specs.vocabulary import Status
from spend.models import DailySpend, StatusSample
from tests.cluster_helpers import deployment_pushed
from tests.deployments.test_sync import running_pods_by_deployment, simulate

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(90)]


def _history(d, days=5):
    """Some rolled-up spend and an hour of samples, so the page shows what a team sees after a while."""
    today = timezone.now().date()
    DailySpend.objects.bulk_create(
        DailySpend(deployment=d, team=d.team, day=today - timedelta(days=k), gpu_hours=Decimal(3 + k),
                   cost_usd=Decimal("2.70") * (3 + k), warm_cost_usd=Decimal("1.35")) for k in range(days)
    )
    now = timezone.now()
    StatusSample.objects.bulk_create(
        StatusSample(deployment=d, at=now - timedelta(minutes=m), status=Status.RUNNING, ready_pods=1 + (m // 20) % 3,
                     total_pods=1 + (m // 20) % 3, gpus_in_use=1 + (m // 20) % 3) for m in range(1, 60)
    )


def test_pod_count_changes_live_on_the_dashboard(sandbox, sandbox_kubeconfig, browser_login, live_server, deployer,
                                                  screenshot):
    chat = deployment_pushed(deployer, name="llama-chat",
                             scaling={"min_replicas": 0, "max_replicas": 6, "scale_to_zero_retention": "5m"})
    deployment_pushed(deployer, name="embedder", scaling={"min_replicas": 1, "max_replicas": 2})
    sandbox.simulator.set_traffic("tenant-nlp", "llama-chat", "idle")
    sandbox.simulator.set_traffic("tenant-nlp", "embedder", "steady")
    simulate(sandbox)
    status_sync()
    _history(chat)
    before = running_pods_by_deployment(sandbox, "tenant-nlp").get("llama-chat", 0)

    page = browser_login(deployer)
    page.goto(live_server.url + "/")
    row = page.locator(f"#dep-{chat.pk}")
    pods = row.locator(".pods-ready")
    assert pods.inner_text() == str(before)
    screenshot("dashboard-before")

    # Traffic arrives: the autoscaler adds pods, the sync sees them, the open page follows without a reload.
    sandbox.simulator.set_traffic("tenant-nlp", "llama-chat", "steady")
    simulate(sandbox, seconds=30, steps=3)
    status_sync()
    after = running_pods_by_deployment(sandbox, "tenant-nlp")["llama-chat"]
    assert after > before
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.wait_for_function(
        "([sel, n]) => document.querySelector(sel)?.textContent.trim() === String(n)",
        arg=[f"#dep-{chat.pk} .pods-ready", after], timeout=10_000,
    )
    assert navigations == []                                  # htmx swapped the rows; the page never reloaded
    assert row.locator('[data-testid="gpus"]').inner_text() == str(after * chat.gpus_per_replica)
    screenshot("dashboard-live")

    page.click(f"#dep-{chat.pk} a.dep-name")
    page.wait_for_selector("#charts canvas")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('#charts canvas'))")
    assert page.locator("#ready-pods").inner_text() == str(after)
    page.wait_for_selector("#k8s-events ul.timeline")       # Kubernetes events, loaded after the page
    screenshot("deployment-page")

    # On the deployment page too: a pod change in the cluster shows within 5 s, without a reload.
    navigations.clear()
    sandbox.simulator.set_traffic("tenant-nlp", "llama-chat", "burst")
    simulate(sandbox, seconds=30, steps=3)
    status_sync()
    more = running_pods_by_deployment(sandbox, "tenant-nlp")["llama-chat"]
    assert more != after
    page.wait_for_function("([sel, n]) => document.querySelector(sel)?.textContent.trim() === String(n)",
                           arg=["#ready-pods", more], timeout=5_000)
    page.wait_for_selector("#timeline-panel[hx-trigger]")  # the timeline, events and runs refresh the same way
    assert navigations == []
