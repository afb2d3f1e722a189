"""PostgreSQL restarted while a status sync is in flight: that cycle fails, the next one recovers
on its own (a new connection per task), and the deployment's status is right afterwards."""

import pytest
from django.db import connection

from deployments.models import Deployment
from deployments.services.lifecycle import deployment_create
from deployments.services.push import deployment_push
from specs.vocabulary import Status
from tests.cluster_helpers import requests_matching, wait_for
from tests.factories import online_spec

pytestmark = [pytest.mark.timeout(45), pytest.mark.django_db(transaction=True)]

PODS_PATH = "/api/v1/namespaces/tenant-nlp/pods"


def test_status_sync_recovers_after_postgres_restarts_mid_cycle(
    postgres_server, sandbox_simulated, sandbox_kubeconfig, celery_worker_factory, deployer
):
    sandbox = sandbox_simulated
    sandbox.simulator.set_traffic("tenant-nlp", "llama-chat", "steady")
    d = deployment_create(user=deployer, spec=online_spec())
    assert deployment_push(deployment_id=d.pk, revision=1)
    assert Deployment.objects.get(pk=d.pk).status == Status.APPLYING
    # The first sync's pods list hangs: the sync has read its rows and waits on the cluster.
    sandbox.delay("GET", f"{PODS_PATH}$", 3, times=1)
    worker = celery_worker_factory(beat=True)  # beat: a sync every second

    wait_for(lambda: requests_matching(sandbox, "GET", PODS_PATH), timeout=20,
             message=f"a sync in flight; worker log:\n{worker.log()[-3000:]}")
    connection.close()  # this test process's own connection dies with the restart too
    postgres_server.restart()

    wait_for(lambda: "OperationalError" in worker.log(), timeout=10,
             message=f"the interrupted sync to fail; worker log:\n{worker.log()[-3000:]}")
    state = wait_for(
        lambda: (s := Deployment.objects.filter(pk=d.pk).values("status", "ready_pods").get())["status"]
        == Status.RUNNING and s["ready_pods"] > 0 and s,
        timeout=30, step=connection.close,
        message=f"running after the restart; worker log:\n{worker.log()[-3000:]}",
    )
    running = [p for p in sandbox.objects("pods", "tenant-nlp") if p["status"].get("phase") == "Running"]
    assert state["ready_pods"] <= len(running)
    assert worker.proc.poll() is None  # nobody restarted the worker
    assert Deployment.objects.get(pk=d.pk).samples.exists()
