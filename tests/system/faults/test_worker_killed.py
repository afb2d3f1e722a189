"""A worker killed with SIGKILL while a push is in flight: the message is redelivered, the push converges once."""

import os
import signal
import time

import pytest

from audit.models import Event
from deployments.models import Deployment
from deployments.services import lifecycle
from specs.vocabulary import Status
from tests.cluster_helpers import KSVC, requests_matching, wait_for
from tests.factories import online_spec

pytestmark = [pytest.mark.timeout(45), pytest.mark.django_db(transaction=True)]

VISIBILITY_TIMEOUT = 5  # the smallest the settings accept; production keeps 300 s
HANG_SECONDS = 8  # the interrupted apply still lands, about when the redelivered one does


def test_a_push_interrupted_by_sigkill_is_redelivered_and_applied_once(
    sandbox_simulated, sandbox_kubeconfig, celery_worker_factory, deployer
):
    sandbox = sandbox_simulated
    sandbox.simulator.set_traffic("tenant-nlp", "llama-chat", "steady")
    # The apply of the Knative Service hangs long enough to kill the worker in the middle of it.
    sandbox.delay("PATCH", r"/services/llama-chat$", HANG_SECONDS, times=1)
    # Only redelivery (acks_late) may bring the push back: reconcile's requeue stays out of reach.
    env = {"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT), "STUCK_AFTER_SECONDS": "600"}
    first = celery_worker_factory(env=env)

    deployment = lifecycle.deployment_create(user=deployer, spec=online_spec())
    wait_for(lambda: requests_matching(sandbox, "PATCH", "/services/llama-chat"), timeout=20,
             message=f"the apply to start; worker log:\n{first.log()[-3000:]}")
    killed_at = time.monotonic()
    os.killpg(first.proc.pid, signal.SIGKILL)
    first.proc.wait(10)
    assert Deployment.objects.get(pk=deployment.pk).applied_revision is None  # the push never finished

    # A new worker restores unacknowledged messages older than the visibility timeout when it starts.
    time.sleep(max(0.0, VISIBILITY_TIMEOUT + 0.5 - (time.monotonic() - killed_at)))
    second = celery_worker_factory(env=env)
    wait_for(lambda: Deployment.objects.get(pk=deployment.pk).status == Status.RUNNING, timeout=30,
             message=f"running; second worker log:\n{second.log()[-3000:]}")

    d = Deployment.objects.get(pk=deployment.pk)
    # The killed worker's request still lands (as it may on a real API server): let it, then look.
    time.sleep(max(0.0, killed_at + HANG_SECONDS + 0.5 - time.monotonic()))
    assert (d.applied_revision, d.push_attempts) == (1, 2)  # the killed attempt and the redelivered one
    assert len(requests_matching(sandbox, "PATCH", "/services/llama-chat")) == 2
    ksvc = sandbox.object(KSVC, "tenant-nlp", "llama-chat")
    # The interrupted apply and the redelivered one carried the same content: one generation, revision 1.
    assert ksvc["metadata"]["generation"] == 1
    assert ksvc["metadata"]["annotations"]["gantry.io/revision"] == "1"
    applied = d.events.filter(kind=Event.Kind.PUSH, message__startswith="Applied revision")
    assert applied.count() == 1
    assert "push_deployment" in second.log() and "re-queued by reconcile" not in "".join(
        d.events.values_list("message", flat=True))
