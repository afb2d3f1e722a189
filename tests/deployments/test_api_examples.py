"""Every request example in the OpenAPI document (deployments/api/examples.py) is accepted by its endpoint: the
body "Try it out" starts from on /api/docs/ never answers 400. Posted in the order a reader would try them, to
a demo team, with the sandbox cluster serving the deployment so that the canary steps can happen."""

import pytest

from deployments.models import Deployment
from deployments.services.push import deployment_push
from specs.vocabulary import Status
from teams.models import Role
from tests.deployments.test_sync import simulate
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
ORDER = ["v1_deployments_preview_create", "v1_deployments_create", "v1_deployments_partial_update",
         "v1_deployments_rollback_create", "v1_deployments_rollout_create"]


def _examples(schema):
    """(operationId, path, method, example name, body) of every JSON request body example, in ORDER."""
    found = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            body = ((operation.get("requestBody") or {}).get("content") or {}).get("application/json") or {}
            for name, example in (body.get("examples") or {}).items():
                found.append((operation["operationId"], path, method, name, example["value"]))
    return sorted(found, key=lambda e: ORDER.index(e[0]))


def _serving(sandbox, deployment):
    """The current revision pushed and ready in the sandbox: a canary needs a revision that serves."""
    deployment.refresh_from_db()
    assert deployment_push(deployment_id=deployment.pk, revision=deployment.current_revision.number)
    simulate(sandbox)
    Deployment.objects.filter(pk=deployment.pk).update(status=Status.RUNNING)


def test_every_request_example_in_the_schema_is_accepted(sandbox, sandbox_kubeconfig, api, client, dispatched):
    demo = TeamFactory(slug="demo")
    owner = MembershipFactory(team=demo, role=Role.OWNER, user=UserFactory(username="demo")).user
    examples = _examples(client.get("/api/schema/?format=json").json())
    assert {e[0] for e in examples} == set(ORDER) and len(examples) >= 10
    caller, online, serving = api(owner), None, False
    for operation, path, method, name, body in examples:
        if operation == "v1_deployments_rollout_create" and not serving:
            _serving(sandbox, online)
            serving = True
        url = path.replace("{id}", str(online.pk)) if "{id}" in path else path
        response = getattr(caller, method)(url, body, format="json")
        assert response.status_code in (200, 201, 202), (operation, name, response.json())
        if operation == "v1_deployments_create" and body["workload"] == "online":
            online = Deployment.objects.get(pk=response.json()["id"])
    online.refresh_from_db()
    assert online.current_revision.number == 5 and online.canary_percent == 100  # 2 changes, a roll back, a canary
