"""Every endpoint for owner, deployer, viewer, outsider, anonymous and staff."""


import pytest

from deployments.models import Deployment
from specs.vocabulary import Status
from tests.api_fixtures import PERSONAS, assert_error_shape, expected_status, stored_deployment

pytestmark = pytest.mark.django_db

READS = [
    "/api/v1/deployments/{id}/",
    "/api/v1/deployments/{id}/manifests/",
    "/api/v1/deployments/{id}/manifests/?format=yaml",
    "/api/v1/deployments/{id}/revisions/",
    "/api/v1/teams/nlp/spend/",
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("path", ["/api/v1/catalog/gpus/", "/api/v1/catalog/regions/",
                                  "/api/v1/catalog/storage-tiers/"])
def test_catalog_for_every_signed_in_caller(as_persona, persona, path):
    response = as_persona(persona).get(path)
    if persona == "anonymous":
        assert_error_shape(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"] == "Token"
    else:
        assert response.status_code == 200 and len(response.json()) >= 3


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("path", READS)
def test_reads(as_persona, deployment, persona, path):
    response = as_persona(persona).get(path.format(id=deployment.pk))
    status = expected_status(persona, 200)
    if status != 200:
        assert response.status_code == status
        return
    assert response.status_code == 200


@pytest.mark.parametrize("persona", PERSONAS)
def test_list_shows_only_the_callers_teams(as_persona, deployment, other_team, persona):
    stored_deployment(other_team, name="vision-svc")
    response = as_persona(persona).get("/api/v1/deployments/")
    if persona == "anonymous":
        assert_error_shape(response, 401)
        return
    names = sorted(d["name"] for d in response.json()["results"])
    assert names == {"outsider": ["vision-svc"], "staff": ["llama-chat", "vision-svc"]}.get(persona, ["llama-chat"])


@pytest.mark.parametrize("persona", PERSONAS)
def test_create(dispatched, as_persona, persona, team, outsider, django_capture_on_commit_callbacks):
    push = dispatched.push
    from tests.factories import online_spec

    with django_capture_on_commit_callbacks(execute=True):
        response = as_persona(persona).post("/api/v1/deployments/", online_spec(), format="json")
    if persona in ("owner", "deployer", "staff"):
        assert response.status_code == 201, response.content
        push.assert_called_once_with(response.json()["id"], 1)
    elif persona == "viewer":
        assert_error_shape(response, 403, "permission_denied")
    elif persona == "outsider":
        assert_error_shape(response, 400, "unknown_team")[0]["field"] == "team"
    else:
        assert_error_shape(response, 401)
    if persona not in ("owner", "deployer", "staff"):
        assert not Deployment.objects.exists() and not push.called


@pytest.mark.parametrize("persona", PERSONAS)
def test_patch(dispatched, as_persona, deployment, persona, django_capture_on_commit_callbacks):
    push = dispatched.push
    with django_capture_on_commit_callbacks(execute=True):
        response = as_persona(persona).patch(f"/api/v1/deployments/{deployment.pk}/",
                                             {"scaling": {"max_replicas": 3}}, format="json")
    status = expected_status(persona, 200, write=True)
    assert response.status_code == status, response.content
    deployment.refresh_from_db()
    if status == 200:
        assert response.json()["revision"] == 2 and deployment.current_revision.number == 2
        push.assert_called_once_with(deployment.pk, 2)
    else:
        assert deployment.current_revision.number == 1 and not push.called


@pytest.mark.parametrize("persona", PERSONAS)
def test_rollback(dispatched, as_persona, deployment, persona):
    response = as_persona(persona).post(f"/api/v1/deployments/{deployment.pk}/rollback/", {"revision": 1},
                                        format="json")
    assert response.status_code == expected_status(persona, 200, write=True), response.content


@pytest.mark.parametrize("persona", PERSONAS)
def test_delete(dispatched, as_persona, deployment, persona, django_capture_on_commit_callbacks):
    teardown = dispatched.teardown
    with django_capture_on_commit_callbacks(execute=True):
        response = as_persona(persona).delete(f"/api/v1/deployments/{deployment.pk}/")
    status = expected_status(persona, 202, write=True)
    assert response.status_code == status, response.content
    deployment.refresh_from_db()
    if status == 202:
        assert response.json()["status"]["phase"] == "deleting" == deployment.status
        teardown.assert_called_once_with(deployment.pk)
    else:
        assert deployment.status == Status.RUNNING and not teardown.called
