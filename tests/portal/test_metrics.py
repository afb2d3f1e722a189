"""/metrics: the portal's own numbers, for the platform team's Prometheus, behind a bearer token."""

import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from deployments import metrics as deployment_metrics
from deployments import tasks
from deployments.models import Deployment
from deployments.services import lifecycle
from deployments.services.sync import status_sync
from specs.vocabulary import Status
from tests.factories import online_spec

pytestmark = [pytest.mark.timeout(60), pytest.mark.django_db]

TOKEN = "scrape-me"
KSVC_PATH = r"/services/llama-chat$"


@pytest.fixture(autouse=True)
def metrics_key(settings, monkeypatch):
    """A Redis hash of this test's own: other tests (and other checkouts) count into the shared Redis."""
    settings.METRICS_TOKEN = TOKEN
    key = f"gantry:metrics:test:{uuid.uuid4().hex}"
    monkeypatch.setattr(deployment_metrics, "KEY", key)
    redis = deployment_metrics.redis_client()
    yield
    redis.delete(key)


def scrape(client, token=TOKEN):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


def test_without_the_token_metrics_are_refused(client, staff, settings):
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    client.force_login(staff)  # a staff session is not a scrape token
    assert client.get("/metrics").status_code == 403
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_requests_are_counted_by_view_and_status(client):
    before = value(scrape(client), "gantry_http_requests_total", view="login", method="GET", status="200") or 0
    client.get("/login/")
    client.get("/login/")
    after = scrape(client)
    assert value(after, "gantry_http_requests_total", view="login", method="GET", status="200") == before + 2
    assert value(after, "gantry_http_requests_total", view="metrics", method="GET", status="200") >= 1


def test_pushes_retries_and_failures_are_counted(client, sandbox, sandbox_kubeconfig, settings, deployer):
    settings.PUSH_RETRY_BASE_SECONDS, settings.PUSH_MAX_RETRIES = 0, 2
    ok = lifecycle.deployment_create(user=deployer, spec=online_spec(name="llama-chat"))
    sandbox.fail_next("PATCH", KSVC_PATH, status=503, times=1)
    tasks.push_deployment.apply(args=[ok.pk, 1])  # one retry, then applied
    tasks.push_deployment.apply(args=[ok.pk, 0])  # an older revision: skipped
    bad = lifecycle.deployment_create(user=deployer, spec=online_spec(name="broken"))
    sandbox.fail_next("PATCH", r"/services/broken$", status=503, times=10)
    tasks.push_deployment.apply(args=[bad.pk, 1])  # two retries, then gives up

    samples = scrape(client)
    assert value(samples, "gantry_pushes_total", result="applied") == 1
    assert value(samples, "gantry_pushes_total", result="skipped") == 1
    assert value(samples, "gantry_task_retries_total", task="push_deployment") == 3
    assert value(samples, "gantry_task_failures_total", task="push_deployment") == 1
    assert Deployment.objects.get(pk=bad.pk).status == Status.FAILED
    assert value(samples, "gantry_deployments", status=Status.FAILED) == 1
    assert value(samples, "gantry_deployments", status=Status.APPLYING) == 1


def test_a_sync_cycle_is_timed_and_counts_what_it_saw(client, sandbox, sandbox_kubeconfig, deployer):
    for name in ("one", "two"):
        d = lifecycle.deployment_create(user=deployer, spec=online_spec(name=name))
        tasks.push_deployment.apply(args=[d.pk, 1])

    assert status_sync()["deployments"] == 2
    status_sync()

    samples = scrape(client)
    assert value(samples, "gantry_sync_duration_seconds_count") == 2
    assert 0 < value(samples, "gantry_sync_duration_seconds_sum") < 60
    assert value(samples, "gantry_sync_duration_seconds_bucket", le="+Inf") == 2
    assert value(samples, "gantry_sync_deployments_seen_total") == 4
    assert value(samples, "gantry_sync_last_deployments") == 2
    assert value(samples, "gantry_sync_last_namespaces") == 1


def test_fleet_gauges_are_read_at_scrape_time(client, deployer, team, other_team):
    d = lifecycle.deployment_create(user=deployer, spec=online_spec(name="held"))
    Deployment.objects.filter(pk=d.pk).update(status=Status.RUNNING, gpus_in_use=3)

    samples = scrape(client)
    assert value(samples, "gantry_gpus_in_use", team=team.slug) == 3
    assert value(samples, "gantry_deployments", status=Status.RUNNING) == 1
    assert value(samples, "gantry_team_spend_month_usd", team=other_team.slug) == 0
    assert value(samples, "gantry_queue_depth", queue="celery") >= 0
    assert value(samples, "gantry_metrics_source_up", source="redis") == 1


def test_an_unreachable_redis_is_reported_not_a_failed_scrape(client, monkeypatch, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    monkeypatch.setattr(deployment_metrics, "_client", None)
    deployment_metrics.metric_count(deployment_metrics.PUSH_APPLIED)  # logged, never raised

    samples = scrape(client)
    assert value(samples, "gantry_metrics_source_up", source="redis") == 0
    assert value(samples, "gantry_queue_depth", queue="celery") is None
    assert value(samples, "gantry_pushes_total", result="applied") is None


def test_gunicorn_workers_share_one_metrics_directory(tmp_path, monkeypatch):
    # The web role's gunicorn config (Dockerfile, docker-compose.yml, k8s/base/web.yaml) empties the
    # multiprocess directory at start and marks a dead worker's files, as prometheus_client documents.
    from types import SimpleNamespace

    from portal import gunicorn_conf

    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_999.db").write_bytes(b"stale")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    gunicorn_conf.on_starting(server=None)
    assert directory.is_dir() and list(directory.iterdir()) == []
    gunicorn_conf.child_exit(server=None, worker=SimpleNamespace(pid=999))  # nothing to mark: no error
    import yaml

    compose = yaml.safe_load(open("docker-compose.yml"))
    assert "gunicorn_conf.py" in compose["services"]["web"]["command"]
    web_env = compose["services"]["web"]["environment"]
    assert web_env["PROMETHEUS_MULTIPROC_DIR"] and web_env["DATABASE_URL"]  # the shared settings are kept
