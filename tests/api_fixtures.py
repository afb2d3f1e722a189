"""API clients per persona, authenticated the way scripts are: `Authorization: Token <key>`."""

import pytest
from rest_framework.test import APIClient

from teams.services import token_create
from tests.factories import DeploymentFactory

PERSONAS = ["owner", "deployer", "viewer", "outsider", "staff", "anonymous"]
READERS = {"owner", "deployer", "viewer", "staff"}
WRITERS = {"owner", "deployer", "staff"}


@pytest.fixture
def api(db):
    """api(user) -> an APIClient sending that user's new token (api(None): no credentials)."""

    def _api(user):
        client = APIClient()
        if user is not None:
            _, key = token_create(user=user, name="tests")
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return _api


@pytest.fixture
def as_persona(request, api, team, other_team):
    """as_persona(name) -> an APIClient for one of PERSONAS (both teams exist either way)."""

    def _as(name):
        user = None if name == "anonymous" else request.getfixturevalue(name)
        return api(user)

    return _as


def stored_deployment(team, name="llama-chat", **fields):
    """A deployment stored the way the lifecycle stores one: the completed spec and its manifests."""
    from deployments.services.preview import deployment_preview
    from tests.factories import online_spec

    preview = deployment_preview(spec=online_spec(team=team.slug, name=name))
    assert not preview["errors"], preview["errors"]
    deployment = DeploymentFactory(team=team, name=name, revision=preview["spec"], **fields)
    deployment.current_revision.manifests = preview["manifests"]
    deployment.current_revision.save(update_fields=["manifests"])
    return deployment


@pytest.fixture
def deployment(team, owner):
    return stored_deployment(team, created_by=owner)


def expected_status(persona, ok, *, write=False):
    """What each persona should get for a team-`nlp` object: the rule from the issue, in one place."""
    if persona == "anonymous":
        return 401
    if persona == "outsider":
        return 404
    if write and persona == "viewer":
        return 403
    return ok


def assert_error_shape(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"errors"} and body["errors"], body
    for item in body["errors"]:
        assert set(item) == {"code", "field", "message"} and item["message"]
    if code:
        assert code in [e["code"] for e in body["errors"]], body
    return body["errors"]
