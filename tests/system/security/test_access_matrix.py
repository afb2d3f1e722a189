"""Every URL the resolver knows × every persona: who may read, who may change, who gets nothing.

The table below is the policy. A URL added to any urls module without a line
here makes `test_every_url_has_an_expectation` fail, so the policy cannot
silently fall behind the code. The Django admin is one class ("staff only")
checked route by route, whatever models are registered.
"""


import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from rest_framework.test import APIClient

from audit.models import Event
from catalog.models import GpuClass, ModelFamily, Region, StorageTier
from deployments.models import Deployment, Draft, Revision
from specs.vocabulary import Status
from teams.models import ApiToken
from teams.services import token_create
from tests.factories import online_spec

from .helpers import PERSONAS, deployment_with_two_revisions, url_fill, url_routes

pytestmark = pytest.mark.django_db

# Outcomes. "ok": 2xx, or a redirect that is not to a login page. "login": redirect to /login/.
# "admin_login": redirect to the admin's login. "kept": the request is answered (no 500, no login
# page) but nothing changes: a viewer's browser form gets its error as a message.
# "health": 200, or 503 while the cluster or broker is unreachable. "logged_out": redirect to /login/.
OK, LOGIN, ADMIN_LOGIN, KEPT = "ok", "login", "admin_login", "kept"
HEALTH, LOGGED_OUT = "health", "logged_out"


def rule(anonymous, outsider, viewer, deployer, owner, staff):
    return dict(zip(PERSONAS, (anonymous, outsider, viewer, deployer, owner, staff)))


# The classes of URL (persona order: anonymous, outsider, viewer, deployer, owner, staff).
EVERYONE = rule(OK, OK, OK, OK, OK, OK)
SIGNED_IN = rule(LOGIN, OK, OK, OK, OK, OK)
TEAM_READ = rule(LOGIN, 404, OK, OK, OK, OK)
TEAM_CHANGE = rule(LOGIN, 404, KEPT, OK, OK, OK)  # browser forms: the viewer is told, nothing changes
TEAM_EDIT = rule(LOGIN, 404, 403, OK, OK, OK)
OWN_ONLY = rule(LOGIN, 404, 404, 404, OK, 404)  # the owner's own draft or token: personal, even for staff
STAFF_PAGE = rule(LOGIN, 404, 404, 404, 404, OK)
NOT_ALLOWED = rule(405, 405, 405, 405, 405, 405)
POST_ONLY = rule(LOGIN, 405, 405, 405, 405, 405)  # login is checked before the method
API_PUBLIC = rule(200, 200, 200, 200, 200, 200)
API_SIGNED_IN = rule(401, OK, OK, OK, OK, OK)
API_READ = rule(401, 404, OK, OK, OK, OK)
API_CHANGE = rule(401, 404, 403, OK, OK, OK)
API_CREATE = rule(401, 400, 403, OK, OK, OK)  # outsider: `nlp` is not their team (unknown_team)
API_DRY_RUN = rule(401, 400, OK, OK, OK, OK)
API_NO_RUNS = rule(401, 404, 403, 409, 409, 409)  # allowed, but the deployment's state refuses it
API_READ_CLUSTER = rule(401, 404, 503, 503, 503, 503)  # a read the cluster answers: none is configured here
ADMIN = rule(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, OK)
ADMIN_REFUSED = {**ADMIN, "staff": 403}
ADMIN_NOT_FOUND = {**ADMIN, "staff": 404}

# route -> {method: (rule, request data)}. Destructive requests are made last (see ORDER).
EXPECTED = {
    "healthz": {"GET": (rule(*[HEALTH] * 6), None)},
    # The kubelet's probes: no session, no data, only whether the process answers and can serve.
    "livez": {"GET": (EVERYONE, None)},
    "readyz": {"GET": (rule(*[HEALTH] * 6), None)},
    # Prometheus' scrape URL answers a bearer METRICS_TOKEN only, never a session (tests/portal/test_metrics.py):
    # with no token configured, as here, it does not exist for anyone.
    "metrics": {"GET": (rule(*[404] * 6), None)},
    "login/": {"GET": (EVERYONE, None)},
    # Single sign-on's start and callback exist only while OIDC_ISSUER is set (not here).
    "oidc/authenticate/": {"GET": (rule(*[404] * 6), None)},
    "oidc/callback/": {"GET": (rule(*[404] * 6), None)},
    "logout/": {"GET": (NOT_ALLOWED, None), "POST": (rule(*[LOGGED_OUT] * 6), {})},
    "catalog/": {"GET": (SIGNED_IN, None)},
    "": {"GET": (SIGNED_IN, None)},
    "deployments/<int:pk>/": {"GET": (TEAM_READ, None)},
    "deployments/<int:pk>/manifests.yaml": {"GET": (TEAM_READ, None)},
    "deployments/<int:pk>/rollback/": {"GET": (NOT_ALLOWED, None), "POST": (TEAM_CHANGE, {"revision": "1"})},
    "deployments/<int:pk>/teardown/": {"GET": (NOT_ALLOWED, None), "POST": (TEAM_CHANGE, {"confirm": "llama-chat"})},
    "deployments/<int:pk>/edit/": {"GET": (TEAM_EDIT, None)},
    # An online deployment: "Run again" is refused with a message (no runs), the viewer's for their role.
    "deployments/<int:pk>/runs/": {"GET": (NOT_ALLOWED, None), "POST": (TEAM_CHANGE, {})},
    "deployments/<int:pk>/traffic/": {"GET": (TEAM_READ, None), "POST": (TEAM_CHANGE, {"action": "rollback"})},
    "deployments/<int:pk>/metrics/": {"GET": (TEAM_READ, None)},
    # Without a cluster the panel says so (200); the pods and the log are read as the deployment's readers.
    "deployments/<int:pk>/logs/": {"GET": (TEAM_READ, None)},
    "new/": {"GET": (SIGNED_IN, None)},
    "drafts/<int:pk>/step/<int:step>/": {"GET": (OWN_ONLY, None), "POST": (OWN_ONLY, {"name": "chat-two"})},
    "drafts/<int:pk>/manifests.yaml": {"GET": (OWN_ONLY, None)},
    "drafts/<int:pk>/discard/": {"GET": (POST_ONLY, None), "POST": (OWN_ONLY, {})},
    "fleet/": {"GET": (STAFF_PAGE, None)},
    "tokens/": {"GET": (SIGNED_IN, None), "POST": (rule(LOGIN, 201, 201, 201, 201, 201), {"name": "ci"})},
    "tokens/<int:token_id>/revoke/": {"GET": (POST_ONLY, None), "POST": (OWN_ONLY, {})},
    # Members read the team's webhooks and delivery log; only owners (and staff) add a webhook.
    "teams/<slug:slug>/notifications/": {"GET": (TEAM_READ, None), "POST": (
        rule(LOGIN, 404, 403, 403, 201, 201), {"name": "alerts", "url": "https://hooks.example.com/gantry"})},
    # Everyone signed in has their own webhooks (201: added, secret shown once).
    "notifications/": {"GET": (SIGNED_IN, None), "POST": (
        rule(LOGIN, 201, 201, 201, 201, 201), {"name": "mine", "url": "https://hooks.example.com/me"})},
    "api/v1/deployments/preview/": {"POST": (API_DRY_RUN, online_spec(name="preview-svc"))},
    "api/v1/deployments/$": {"GET": (API_SIGNED_IN, None), "POST": (API_CREATE, online_spec(name="new-svc"))},
    # Runs of an online deployment: readers list none; the team's writers are told it has no runs (409).
    "api/v1/deployments/<int:pk>/runs/": {"GET": (API_READ, None), "POST": (API_NO_RUNS, None)},
    "api/v1/deployments/<int:pk>/logs/": {"GET": (API_READ_CLUSTER, None)},
    "api/v1/deployments/<int:pk>/metrics/": {"GET": (API_READ, None)},
    # Nothing to roll back on a deployment that never had a canary: 409 for writers, 403 for the viewer.
    "api/v1/deployments/<int:pk>/rollout/": {"GET": (API_READ, None), "POST": (API_NO_RUNS, {"action": "rollback"})},
    "api/v1/deployments/(?P<pk>[0-9]+)/$": {
        "GET": (API_READ, None), "PATCH": (API_CHANGE, {"scaling": {"max_replicas": 4}}),
        "DELETE": (API_CHANGE, None)},
    "api/v1/deployments/(?P<pk>[0-9]+)/manifests/$": {"GET": (API_READ, None)},
    "api/v1/deployments/(?P<pk>[0-9]+)/revisions/$": {"GET": (API_READ, None)},
    "api/v1/deployments/(?P<pk>[0-9]+)/rollback/$": {"POST": (API_CHANGE, {"revision": 1})},
    "api/v1/teams/<slug:slug>/spend/": {"GET": (API_READ, None)},
    "api/v1/catalog/gpus/": {"GET": (API_SIGNED_IN, None)},
    "api/v1/catalog/regions/": {"GET": (API_SIGNED_IN, None)},
    "api/v1/catalog/storage-tiers/": {"GET": (API_SIGNED_IN, None)},
    # The OpenAPI document and its page describe the API, they hold no data: public on purpose.
    "api/schema/": {"GET": (API_PUBLIC, None)},
    "api/docs/": {"GET": (API_PUBLIC, None)},
    # The admin's own login and logout pages (everything else in admin/ is ADMIN).
    "admin/login/": {"GET": (EVERYONE, None)},
    # GET on the admin's logout just goes back to the admin index (Django logs out by POST only).
    "admin/logout/": {"GET": (rule(OK, OK, OK, OK, OK, 405), None)},
    # Autocomplete answers only with its query parameters; a bare call is refused even for staff.
    "admin/autocomplete/": {"GET": (ADMIN_REFUSED, None)},
    # Deployments have no public URL of their own to jump to, and unknown admin pages are 404.
    "admin/r/<path:content_type_id>/<path:object_id>/": {"GET": (ADMIN_NOT_FOUND, None)},
    "admin/(?P<url>.*)$": {"GET": (ADMIN_NOT_FOUND, None)},
    # Deployments are created by the wizard or the API and removed by tear down; the audit log is
    # append-only: the admin refuses to add or delete either, even for staff.
    "admin/deployments/deployment/add/": {"GET": (ADMIN_REFUSED, None)},
    "admin/deployments/deployment/<path:object_id>/delete/": {"GET": (ADMIN_REFUSED, None)},
    "admin/audit/event/add/": {"GET": (ADMIN_REFUSED, None)},
    "admin/audit/event/<path:object_id>/delete/": {"GET": (ADMIN_REFUSED, None)},
    # Webhooks are added on the team's page (it shows the secret once); deliveries only by events.
    "admin/notifications/webhook/add/": {"GET": (ADMIN_REFUSED, None)},
    "admin/notifications/delivery/add/": {"GET": (ADMIN_REFUSED, None)},
}
DESTRUCTIVE = {("deployments/<int:pk>/teardown/", "POST"), ("drafts/<int:pk>/discard/", "POST"),
               ("tokens/<int:token_id>/revoke/", "POST"), ("api/v1/deployments/(?P<pk>[0-9]+)/$", "DELETE"),
               ("logout/", "POST")}


def _route_key(route):
    return route.lstrip("^")


def _admin_object_ids(objects):
    """object_id for each admin model route: a real row of that model."""
    return {
        "auth/group": objects["group"].pk, "auth/user": objects["owner"].pk,
        "catalog/gpuclass": GpuClass.objects.first().pk, "catalog/region": Region.objects.first().pk,
        "catalog/storagetier": StorageTier.objects.first().pk, "teams/team": objects["team"].pk,
        "catalog/modelfamily": ModelFamily.objects.first().pk,
        "deployments/deployment": objects["deployment"].pk, "audit/event": objects["event"].pk,
    }


def _ids_for(route, objects):
    """The ids to put into a route: team nlp's deployment, the owner's draft and token, real admin rows."""
    ids = {"pk": objects["deployment"].pk, "slug": "nlp", "step": 1, "token_id": objects["token"].pk,
           "id": objects["owner"].pk, "app_label": "deployments", "url": "no-such-page/",
           "content_type_id": ContentType.objects.get_for_model(Deployment).pk, "object_id": objects["deployment"].pk}
    if route.startswith("drafts/"):
        ids["pk"] = objects["draft"].pk
    if route.startswith("admin/") and "object_id" in route:
        model = "/".join(route.split("/")[1:3])
        ids["object_id"] = _admin_object_ids(objects).get(model, objects["deployment"].pk)
    return ids


def expectation_for(route):
    key = _route_key(route)
    if key in EXPECTED:
        return EXPECTED[key]
    if key.startswith("admin/"):
        return {"GET": (ADMIN, None)}
    return None


def routes_without_expectation():
    return [route for route, _ in url_routes() if expectation_for(route) is None]


def test_every_url_has_an_expectation():
    missing = routes_without_expectation()
    assert not missing, f"URLs without an access expectation (add them to EXPECTED): {missing}"
    stale = set(EXPECTED) - {_route_key(r) for r, _ in url_routes()}
    assert not stale, f"Expectations for URLs that no longer exist: {stale}"


def test_a_new_url_without_an_expectation_is_caught(settings):
    settings.ROOT_URLCONF = "tests.system.security.urls_with_a_new_page"
    assert routes_without_expectation() == ["surprise/"]


@pytest.fixture
def objects(team, other_team, owner, deployer, viewer, outsider, staff):
    deployment = deployment_with_two_revisions(owner)
    draft = Draft.objects.create(user=owner, data=online_spec(name="draft-svc"), step=2)
    token, _ = token_create(user=owner, name="laptop")
    event = Event.objects.filter(deployment=deployment).first()
    return {"team": team, "owner": owner, "deployment": deployment, "draft": draft, "token": token,
            "event": event, "group": Group.objects.create(name="ops")}


def _client(persona, request):
    """An APIClient serves both: JSON for the API, form posts for pages (no CSRF check here; see test_csrf)."""
    client = APIClient()
    client.raise_request_exception = False
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    return client


def _send(client, method, path, data, *, api):
    if method == "GET":
        return client.get(path)
    if api:
        return getattr(client, method.lower())(path, data, format="json")
    return client.post(path, data or {})


def _outcome_matches(expected, response, path):
    location = response.get("Location", "") if response.status_code in (301, 302) else ""
    if expected == HEALTH:
        return response.status_code in (200, 503)
    if response.status_code >= 500 and response.status_code != expected:  # a 5xx only where the table says
        return False
    if expected == OK:
        return 200 <= response.status_code < 300 or (location and "login/" not in location)
    if expected == KEPT:
        return response.status_code in (200, 302) and "login/" not in location
    if expected == LOGGED_OUT:
        return location == "/login/"
    if expected == LOGIN:
        return location.startswith("/login/?next=")
    if expected == ADMIN_LOGIN:
        return location.startswith("/admin/login/?next=")
    return response.status_code == expected


def _state(objects):
    deployment = Deployment.objects.get(pk=objects["deployment"].pk)
    return {
        "deployment status": deployment.status,
        "revisions": Revision.objects.filter(deployment=deployment).count(),
        "draft exists": Draft.objects.filter(pk=objects["draft"].pk).exists(),
        "token revoked": ApiToken.objects.get(pk=objects["token"].pk).revoked_at is not None,
        "draft name": (Draft.objects.filter(pk=objects["draft"].pk).values_list("data", flat=True).first()
                       or {}).get("name"),
    }


def _cases():
    """(route, method, rule, data), with the destructive ones last."""
    cases = []
    for route, _ in url_routes():
        for method, (expected, data) in expectation_for(route).items():
            cases.append((route, method, expected, data))
    # Destructive requests last, and logging out the very last (the persona's client is shared).
    return sorted(cases, key=lambda c: ((_route_key(c[0]), c[1]) in DESTRUCTIVE, _route_key(c[0]) == "logout/"))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("persona", PERSONAS)
def test_access_matrix(request, persona, objects):
    failures = []
    client = _client(persona, request)
    for route, method, expected_by_persona, data in _cases():
        expected = expected_by_persona[persona]
        api = route.lstrip("^").startswith("api/")
        path = url_fill(route, _ids_for(route, objects))
        before = _state(objects)
        response = _send(client, method, path, data, api=api)
        after = _state(objects)
        if not _outcome_matches(expected, response, path):
            failures.append(f"{method} {path}: expected {expected}, got {response.status_code} "
                            f"{response.get('Location', '')}")
        refused = expected not in (OK, 201)
        if refused and method != "GET" and before != after:
            failures.append(f"{method} {path}: refused ({expected}) but changed {before} -> {after}")
    assert not failures, f"{persona}:\n" + "\n".join(failures)


@pytest.mark.parametrize("persona", ["deployer", "owner", "staff"])
def test_writers_really_change_things(request, persona, objects):
    """The matrix says "ok"; here the effect a user expects is checked too, per browser action."""
    deployment = objects["deployment"]
    client = _client(persona, request)
    client.post(f"/deployments/{deployment.pk}/rollback/", {"revision": "1"})
    assert Revision.objects.filter(deployment=deployment).count() == 3
    client.post(f"/deployments/{deployment.pk}/teardown/", {"confirm": "llama-chat"})
    assert Deployment.objects.get(pk=deployment.pk).status == Status.DELETING
