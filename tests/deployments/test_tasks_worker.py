"""End to end: the service, Redis, a real `celery worker` subprocess (with beat) and the sandbox cluster."""

import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.utils import timezone
from kombu import pools

from audit.models import Event
from deployments.models import Deployment
from deployments.services import lifecycle
from portal.celery import app
from specs.vocabulary import Status
from tests.cluster_helpers import KSVC, requests_matching, wait_for
from tests.factories import online_spec

pytestmark = [pytest.mark.timeout(90), pytest.mark.django_db(transaction=True)]

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def _pools_reset():
    # kombu keeps pools in a global registry keyed by URL: closing ours alone would leave a closed
    # pool there for the next publish to the same URL ("Acquire on closed pool").
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def broker_unreachable():
    """Point this process's Celery app at a closed port, as if Redis were down."""
    saved = app.conf.broker_url
    app.conf.broker_url = CLOSED_PORT_BROKER
    _pools_reset()
    try:
        yield
    finally:
        app.conf.broker_url = saved
        _pools_reset()


def deployment_status(pk):
    return Deployment.objects.values("status", "ready_pods", "total_pods", "status_message").get(pk=pk)


def test_a_deployment_created_through_the_service_reaches_running_despite_api_faults(
    sandbox_simulated, sandbox_kubeconfig, celery_worker_process, deployer
):
    sandbox = sandbox_simulated
    sandbox.simulator.set_traffic("tenant-nlp", "llama-chat", "steady")
    sandbox.fail_next("PATCH", r"/services/llama-chat$", status=503, times=2)
    sandbox.drop_next("PATCH", r"/services/llama-chat$", times=1)

    deployment = lifecycle.deployment_create(user=deployer, spec=online_spec())

    state = wait_for(
        lambda: (s := deployment_status(deployment.pk))["status"] == Status.RUNNING and s["ready_pods"] > 0 and s,
        timeout=45, message=f"running with ready pods; worker log:\n{celery_worker_process.log()[-3000:]}",
    )
    pods = [p for p in sandbox.objects("pods", "tenant-nlp") if p["status"].get("phase") == "Running"]
    assert state["ready_pods"] >= 1 and len(pods) >= 1
    assert len(requests_matching(sandbox, "PATCH", "/services/llama-chat")) >= 4  # 2 × 503, 1 drop, then applied
    d = Deployment.objects.get(pk=deployment.pk)
    assert d.applied_revision == 1 and d.url and d.samples.exists()
    assert list(d.events.filter(kind=Event.Kind.STATUS).values_list("to_status", flat=True).order_by("id"))[:2] == [
        "applying", "running"
    ]


def test_a_push_lost_while_the_broker_was_down_is_pushed_by_reconcile(
    sandbox_simulated, sandbox_kubeconfig, celery_worker_factory, deployer
):
    sandbox = sandbox_simulated
    with broker_unreachable():
        started = time.monotonic()
        deployment = lifecycle.deployment_create(user=deployer, spec=online_spec())
        assert time.monotonic() - started < 10  # the request does not hang on the broker
    assert Deployment.objects.get(pk=deployment.pk).status == Status.QUEUED
    assert sandbox.object(KSVC, "tenant-nlp", "llama-chat") is None

    # Older than STUCK_AFTER_SECONDS below, without waiting for it.
    Deployment.objects.filter(pk=deployment.pk).update(updated_at=timezone.now() - timedelta(seconds=5))
    worker = celery_worker_factory(env={"STUCK_AFTER_SECONDS": "1", "RECONCILE_INTERVAL_SECONDS": "1"})
    wait_for(lambda: deployment_status(deployment.pk)["status"] == Status.RUNNING, timeout=45,
             message=f"running; worker log:\n{worker.log()[-3000:]}")
    assert sandbox.object(KSVC, "tenant-nlp", "llama-chat") is not None
    assert Event.objects.filter(deployment_id=deployment.pk, message__contains="re-queued by reconcile").exists()


def test_the_worker_keeps_its_database_connection_between_tasks(sandbox, sandbox_kubeconfig, celery_worker_factory,
                                                                deployer):
    """Issue 18: a PostgreSQL connection per task cost ~6 ms; with CONN_MAX_AGE the worker keeps one."""
    from django.db import connection

    celery_worker_factory(beat=False)

    def worker_backends():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid, backend_start FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
            return set(cursor.fetchall())

    seen = []
    for i in range(3):
        d = lifecycle.deployment_create(user=deployer, spec=online_spec(name=f"reuse-{i}"))
        wait_for(lambda d=d: deployment_status(d.pk)["status"] == Status.APPLYING, timeout=30,
                 message=f"reuse-{i} pushed")
        seen.append(worker_backends())
    assert seen[0] and seen[0] == seen[1] == seen[2], "one connection, kept from task to task"
