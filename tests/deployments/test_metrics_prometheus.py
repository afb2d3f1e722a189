"""Request metrics: a real Prometheus scrapes the sandbox's simulated pods, and the API and the page
show the request rate and p95 the sandbox generated (within a scrape interval's error)."""

import pytest

from deployments.prometheus import query_value
from sandbox import sim_metrics
from tests.cluster_helpers import deployment_pushed, wait_for

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(30)]


def _serving(sandbox, deployer, name, pods=2):
    deployment = deployment_pushed(deployer, name=name, scaling={"min_replicas": pods, "max_replicas": pods})
    for _ in range(2):
        sandbox.simulator.tick()
        sandbox.simulator.advance(30)
    sandbox.simulator.tick()
    running = [p for p in sandbox.objects("pods", deployment.namespace) if p["status"].get("phase") == "Running"]
    assert len(running) == pods
    return deployment


def test_api_and_page_show_the_rate_and_p95_the_sandbox_generated(sandbox, sandbox_kubeconfig, prometheus,
                                                                   deployer, api, login):
    deployment = _serving(sandbox, deployer, "chat", pods=2)
    client = api(deployer)
    url = f"/api/v1/deployments/{deployment.pk}/metrics/?range=1h"
    scrapes = 'min(count_over_time(kn_serving_queue_depth{namespace="tenant-nlp"}[6s]))'

    def settled():  # the rate window (four scrapes) lies within what Prometheus has: rate is the counters' slope
        return (query_value(scrapes) or 0) >= 6

    wait_for(settled, timeout=20, interval=0.25, message="Prometheus to have six scrapes of the pods")
    body = client.get(url).json()
    current = body["current"]
    assert body["enabled"] and body["message"] == ""
    assert current["requests_per_second"] == pytest.approx(2 * sim_metrics.REQUESTS_PER_SECOND, rel=0.1)
    assert current["latency_p95_seconds"] == pytest.approx(sim_metrics.bucket_quantile(0.95), rel=0.05)
    assert current["latency_p50_seconds"] == pytest.approx(sim_metrics.bucket_quantile(0.5), rel=0.05)
    assert current["error_ratio"] == pytest.approx(sim_metrics.ERROR_RATIO, abs=0.02)
    assert current["concurrency_per_replica"] == round(sim_metrics.in_flight_per_pod())
    assert current["gpu_memory_used_mib"] > 0 and current["gpu_utilization_percent"] > 0
    assert body["latency"]["tolerance"] == "moderate" and body["latency"]["meets"] is True
    assert len(body["timestamps"]) == 121 and all(len(s) == 121 for s in body["series"].values())

    page = login(deployer).get(f"/deployments/{deployment.pk}/metrics/").content.decode()
    assert "Meets the moderate latency tolerance" in page
    shown_rps = float(page.split('id="metric-rps">')[1].split("<")[0])
    assert shown_rps == pytest.approx(2 * sim_metrics.REQUESTS_PER_SECOND, rel=0.15)
    shown_p95 = float(page.split('id="metric-p95">')[1].split("<")[0])
    assert shown_p95 == pytest.approx(sim_metrics.bucket_quantile(0.95), rel=0.05)
    assert 'data-kind="latency"' in page
    detail = login(deployer).get(f"/deployments/{deployment.pk}/").content.decode()
    assert f'hx-get="/deployments/{deployment.pk}/metrics/"' in detail


def test_without_prometheus_the_panel_says_how_to_enable_it(settings, deployer, api, login, team):
    from tests.api_fixtures import stored_deployment

    settings.PROMETHEUS_URL = ""
    deployment = stored_deployment(team, name="quiet")
    body = api(deployer).get(f"/api/v1/deployments/{deployment.pk}/metrics/").json()
    assert body["enabled"] is False and "PROMETHEUS_URL" in body["message"] and body["series"] == {}
    page = login(deployer).get(f"/deployments/{deployment.pk}/metrics/", headers={"HX-Request": "true"})
    assert "set PROMETHEUS_URL" in page.content.decode()


def test_an_unreachable_prometheus_is_said_not_raised(settings, deployer, api, team):
    from tests.api_fixtures import stored_deployment

    settings.PROMETHEUS_URL = "http://127.0.0.1:9"  # discard port: connection refused
    deployment = stored_deployment(team, name="quiet")
    body = api(deployer).get(f"/api/v1/deployments/{deployment.pk}/metrics/?range=1d").json()
    assert body["enabled"] is True and "did not answer" in body["message"]


def test_outsiders_get_404_and_a_bad_range_400(deployer, outsider, api, team):
    from tests.api_fixtures import stored_deployment

    deployment = stored_deployment(team, name="quiet")
    assert api(outsider).get(f"/api/v1/deployments/{deployment.pk}/metrics/").status_code == 404
    assert api(deployer).get(f"/api/v1/deployments/{deployment.pk}/metrics/?range=1y").status_code == 400


def test_cold_starts_are_counted_from_the_status_history(team, owner, api):
    # Knative v1.23's queue-proxy exports no cold-start metric: returns from zero in Gantry's own events count.
    from datetime import timedelta

    from django.utils import timezone

    from audit.models import Event
    from tests.factories import DeploymentFactory

    d = DeploymentFactory(team=team, name="bursty")
    for minutes_ago in (10, 30, 90):
        e = Event.objects.create(deployment=d, team=team, kind=Event.Kind.STATUS, from_status="scaled_to_zero",
                                 to_status="running", message="Now running")
        Event.objects.filter(pk=e.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    Event.objects.create(deployment=d, team=team, kind=Event.Kind.STATUS, from_status="applying", to_status="running")
    assert api(owner).get(f"/api/v1/deployments/{d.pk}/metrics/?range=1h").json()["cold_starts"] == 2
    assert api(owner).get(f"/api/v1/deployments/{d.pk}/metrics/?range=1d").json()["cold_starts"] == 3
