"""Every state-changing browser form needs its CSRF token; the API needs it with a session, not with a token."""


import pytest
from django.test import Client

from deployments.models import Deployment, Draft, Revision
from notifications.models import Webhook
from specs.vocabulary import Status
from teams.models import ApiToken, Team
from teams.services import token_create
from tests.factories import online_spec

from .helpers import deployment_with_two_revisions, url_fill, url_routes
from .test_access_matrix import EXPECTED

pytestmark = pytest.mark.django_db


def _browser_posts():
    """Every browser (non-API) route the access matrix posts to, plus login and the admin's forms."""
    return sorted(route for route, methods in EXPECTED.items()
                  if not route.startswith("api/") and set(methods) - {"GET"})


@pytest.fixture
def objects(team, owner, staff):
    deployment = deployment_with_two_revisions(owner)
    draft = Draft.objects.create(user=owner, data=online_spec(name="draft-svc"), step=2)
    token, _ = token_create(user=owner, name="laptop")
    return {"deployment": deployment, "draft": draft, "token": token}


def _ids(route, objects):
    pk = objects["draft"].pk if route.startswith("drafts/") else objects["deployment"].pk
    return {"pk": pk, "step": 1, "token_id": objects["token"].pk, "slug": objects["deployment"].team.slug}


def _state(objects):
    deployment = Deployment.objects.get(pk=objects["deployment"].pk)
    return (deployment.status, Revision.objects.filter(deployment=deployment).count(),
            Draft.objects.filter(pk=objects["draft"].pk).values_list("data", flat=True).first(),
            ApiToken.objects.filter(revoked_at__isnull=True).count(), ApiToken.objects.count(),
            Webhook.objects.count())


def test_the_list_of_forms_covers_the_expected_actions():
    assert {"logout/", "deployments/<int:pk>/rollback/", "deployments/<int:pk>/teardown/",
            "drafts/<int:pk>/step/<int:step>/", "drafts/<int:pk>/discard/", "tokens/",
            "tokens/<int:token_id>/revoke/"} <= set(_browser_posts())


@pytest.mark.parametrize("route", _browser_posts())
def test_a_form_post_without_the_token_is_refused(route, objects, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    routes = {r for r, _ in url_routes()}
    assert route in routes
    data = EXPECTED[route]["POST"][1]
    before = _state(objects)
    response = client.post(url_fill(route, _ids(route, objects)), data)
    assert response.status_code == 403
    assert _state(objects) == before
    # Still signed in: a forged logout must not log the user out either.
    assert client.get("/").status_code == 200


def test_the_same_post_with_the_token_goes_through(objects, owner):
    """The control: the refusal above is the CSRF check, not something else."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    page = client.get(f"/deployments/{objects['deployment'].pk}/")
    token = page.cookies["csrftoken"].value
    response = client.post(f"/deployments/{objects['deployment'].pk}/teardown/",
                           {"confirm": "llama-chat", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Deployment.objects.get(pk=objects["deployment"].pk).status == Status.DELETING


def test_login_form_needs_the_token(owner):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": owner.username, "password": "pw-for-tests-1"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_admin_forms_and_actions_need_the_token(objects, staff, team):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    response = client.post(f"/admin/teams/team/{team.pk}/change/", {"slug": "nlp", "name": "Renamed",
                                                                    "monthly_budget_usd": "1", "gpu_quota": "1"})
    assert response.status_code == 403
    assert Team.objects.get(pk=team.pk).name == "NLP"
    response = client.post("/admin/deployments/deployment/", {"action": "tear_down",
                                                              "_selected_action": [objects["deployment"].pk]})
    assert response.status_code == 403
    assert Deployment.objects.get(pk=objects["deployment"].pk).status != Status.DELETING


def test_api_with_a_session_needs_the_token_and_with_a_key_does_not(dispatched, team, owner):
    from rest_framework.test import APIClient

    session = APIClient(enforce_csrf_checks=True)
    session.force_login(owner)
    response = session.post("/api/v1/deployments/", online_spec(name="from-browser"), format="json")
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"].lower().startswith("csrf failed")
    response = session.delete("/api/v1/deployments/999/")
    assert response.status_code == 403
    assert not Deployment.objects.filter(name="from-browser").exists()

    _, key = token_create(user=owner, name="ci")
    script = APIClient(enforce_csrf_checks=True)
    script.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = script.post("/api/v1/deployments/", online_spec(name="from-script"), format="json")
    assert response.status_code == 201, response.content
    assert Deployment.objects.filter(name="from-script").exists()
