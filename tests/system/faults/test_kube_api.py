"""The Kubernetes API misbehaving under a real worker: slow answers converge, endless drops and
a 422 end in failed with a message the user can read in the API.

503 answers and single dropped connections under a real worker are in
tests/deployments/test_tasks_worker.py; the retry bound in-process is in test_tasks.py.
"""

import pytest
from rest_framework.test import APIClient

from deployments.models import Deployment
from deployments.services import lifecycle
from specs.vocabulary import Status
from teams.services import token_create
from tests.cluster_helpers import KSVC, requests_matching, wait_for
from tests.factories import online_spec

pytestmark = [pytest.mark.timeout(45), pytest.mark.django_db(transaction=True)]

WEBHOOK_MESSAGE = 'admission webhook "quota.gpu.example" denied the request: nvidia.com/gpu exceeds the node pool'


def api_deployments(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user, name='faults')[1]}")
    response = client.get("/api/v1/deployments/?team=nlp")
    assert response.status_code == 200, response.content
    return {d["name"]: d["status"] for d in response.json()["results"]}


def test_slow_dropped_and_rejected_applies_end_where_they_should(
    sandbox_simulated, sandbox_kubeconfig, celery_worker_factory, deployer
):
    sandbox = sandbox_simulated
    sandbox.simulator.set_traffic("tenant-nlp", "slow-chat", "steady")
    # Slower than KUBE_REQUEST_TIMEOUT twice: the client gives up, the task retries, the third try lands.
    sandbox.delay("PATCH", r"/services/slow-chat$", 1.6, times=2)
    sandbox.drop_next("PATCH", r"/services/gone-chat$", times=100)
    sandbox.fail_next("PATCH", r"/services/bad-chat$", status=422, message=WEBHOOK_MESSAGE, times=100)
    worker = celery_worker_factory(env={"KUBE_REQUEST_TIMEOUT": "1", "PUSH_MAX_RETRIES": "3",
                                        "PUSH_RETRY_BASE_SECONDS": "0.1"})

    created = {name: lifecycle.deployment_create(user=deployer, spec=online_spec(name=name))
               for name in ("slow-chat", "gone-chat", "bad-chat")}

    def settled():
        statuses = api_deployments(deployer)
        return (statuses["slow-chat"]["phase"] == Status.RUNNING
                and all(statuses[n]["phase"] == Status.FAILED for n in ("gone-chat", "bad-chat")) and statuses)

    statuses = wait_for(settled, timeout=40, interval=0.3, message=f"settled; worker log:\n{worker.log()[-3000:]}")

    assert statuses["slow-chat"]["message"] == "" and statuses["slow-chat"]["ready_pods"] >= 1
    assert len(requests_matching(sandbox, "PATCH", "/services/slow-chat")) == 3
    assert "timed out" in worker.log()  # the client gave up on the slow answers; nothing hung
    # Dropped connections: retried to the bound (first try + 3), then failed with the reason.
    assert len(requests_matching(sandbox, "PATCH", "/services/gone-chat")) == 4
    assert "cannot reach the Kubernetes API" in statuses["gone-chat"]["message"]
    assert "gave up after 4 attempts" in statuses["gone-chat"]["message"]
    # 422 is permanent: one try, and the API server's own words reach the user.
    assert len(requests_matching(sandbox, "PATCH", "/services/bad-chat")) == 1
    assert statuses["bad-chat"]["message"] == f"applying Service tenant-nlp/bad-chat: {WEBHOOK_MESSAGE}"
    assert sandbox.object(KSVC, "tenant-nlp", "bad-chat") is None
    assert Deployment.objects.get(pk=created["bad-chat"].pk).applied_revision is None
