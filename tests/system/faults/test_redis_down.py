"""Redis stopped when a user deploys: the API still answers, the spec is stored, and once Redis is back
the running worker reconnects and reconcile pushes what was never queued."""

import time

import pytest
from rest_framework.test import APIClient

from audit.models import Event
from deployments.models import Deployment
from specs.vocabulary import Status
from teams.services import token_create
from tests.cluster_helpers import KSVC, wait_for
from tests.factories import online_spec

pytestmark = [pytest.mark.timeout(45), pytest.mark.django_db(transaction=True)]


def test_a_deployment_created_while_redis_is_down_is_pushed_once_it_is_back(
    redis_server, sandbox_simulated, sandbox_kubeconfig, celery_worker_factory, deployer
):
    sandbox = sandbox_simulated
    sandbox.simulator.set_traffic("tenant-nlp", "llama-chat", "steady")
    worker = celery_worker_factory(env={"STUCK_AFTER_SECONDS": "2", "RECONCILE_INTERVAL_SECONDS": "1"})
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=deployer, name='faults')[1]}")

    redis_server.stop()
    started = time.monotonic()
    response = client.post("/api/v1/deployments/", online_spec(), format="json")
    elapsed = time.monotonic() - started

    assert response.status_code == 201, response.content
    assert elapsed < 10  # neither the publish nor the throttle cache hangs on the dead Redis
    body = response.json()
    assert body["status"]["phase"] == Status.QUEUED
    d = Deployment.objects.get(pk=body["id"])
    assert d.current_revision.spec["runtime"]["image"] == "ghcr.io/acme/llm-server:1.4"
    time.sleep(1)
    assert sandbox.object(KSVC, "tenant-nlp", "llama-chat") is None  # nothing could be queued
    health = client.get("/healthz")  # answers, and says what is down
    assert health.status_code == 503
    assert health.json()["checks"]["redis"]["status"] == "down"
    assert health.json()["checks"]["database"] == {"status": "ok"}

    redis_server.start()  # same port, empty: the message published at create time never existed
    wait_for(lambda: Deployment.objects.get(pk=d.pk).status == Status.RUNNING, timeout=40,
             message=f"running; worker log:\n{worker.log()[-3000:]}")
    assert worker.proc.poll() is None  # the same worker rode out the outage
    assert sandbox.object(KSVC, "tenant-nlp", "llama-chat") is not None
    assert Event.objects.filter(deployment_id=d.pk, message__contains="re-queued by reconcile").exists()
