"""Canary rollouts (issue 15): a canary at 20 % shows in the Knative Service's traffic and on the page,
promote and roll back work; the steps are refused clearly when they cannot happen."""

import pytest

from audit.models import Event
from deployments.models import Deployment
from deployments.services import push, rollouts
from tests.api_fixtures import assert_error_shape
from tests.cluster_helpers import KSVC, deployment_pushed
from tests.factories import online_spec

NS = "tenant-nlp"
CHANGE = {"runtime": {"env": {"LOG_LEVEL": "debug"}}}
SCALING = {"min_replicas": 1, "max_replicas": 2, "latency_tolerance": "moderate"}


def _changed(**overrides):
    """The fixture's spec with CHANGE applied: what a change sent in full looks like."""
    spec = online_spec(name="canary", scaling=SCALING, **overrides)
    spec["runtime"] = {**spec["runtime"], **CHANGE["runtime"]}
    return spec


def _ready(sandbox, d):
    """Let the sandbox bring the pushed revision up, and the status sync's verdict: running."""
    for _ in range(3):
        sandbox.simulator.tick()
        sandbox.simulator.advance(30)
    sandbox.simulator.tick()
    Deployment.objects.filter(pk=d.pk).update(status="running")
    d.refresh_from_db()
    return d


def _pods_by_revision(sandbox, name):
    out = {}
    for pod in sandbox.objects("pods", NS):
        labels = pod["metadata"].get("labels") or {}
        if labels.get("gantry.io/deployment") == name and pod.get("status", {}).get("phase") == "Running":
            rev = labels["serving.knative.dev/revision"]
            out[rev] = out.get(rev, 0) + 1
    return out


def _push(d, revision):
    assert push.deployment_push(deployment_id=d.pk, revision=revision)
    d.refresh_from_db()


@pytest.fixture
def serving(sandbox, sandbox_kubeconfig, deployer):
    """A Knative deployment at revision 1, ready in the sandbox, always at least one pod."""
    d = deployment_pushed(deployer, name="canary", scaling=SCALING)
    return _ready(sandbox, d)


def test_a_canary_at_20_percent_splits_the_knative_traffic_and_promote_sends_it_all(
        serving, sandbox, api, deployer, login, django_capture_on_commit_callbacks, dispatched):
    d = serving
    with django_capture_on_commit_callbacks(execute=True):
        response = api(deployer).post(f"/api/v1/deployments/{d.pk}/rollout/",
                                      {"canary_percent": 20, "spec": CHANGE}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["state"] == "canary" and body["stable"] == 1 and body["candidate"] == 2
    assert [(r["revision"], r["percent"]) for r in body["rows"]] == [(1, 80), (2, 20)]
    assert dispatched.push.calls[-1] == (d.pk, 2)
    _push(d, 2)

    ksvc = sandbox.object(KSVC, NS, "canary")
    assert ksvc["spec"]["template"]["metadata"]["name"] == "canary-r2"
    assert ksvc["spec"]["traffic"] == [
        {"revisionName": "canary-00001", "percent": 80, "tag": "stable"},
        {"latestRevision": True, "percent": 20, "tag": "canary"},
    ]
    _ready(sandbox, d)
    # Both revisions keep pods while both have traffic, and the Route resolved the split.
    assert set(_pods_by_revision(sandbox, "canary")) == {"canary-00001", "canary-r2"}
    assert {(t["revisionName"], t["percent"]) for t in sandbox.object(KSVC, NS, "canary")["status"]["traffic"]} == {
        ("canary-00001", 80), ("canary-r2", 20)}

    page = login(deployer).get(f"/deployments/{d.pk}/")
    assert b'id="traffic"' in page.content and b"Canary \xc2\xb7 20 %" in page.content
    panel = login(deployer).get(f"/deployments/{d.pk}/traffic/").content.decode()
    assert "canary-00001" in panel and "canary-r2" in panel and "80 %" in panel and "20 %" in panel
    assert 'class="ready-pods">1<' in panel
    live = api(deployer).get(f"/api/v1/deployments/{d.pk}/rollout/?live=1").json()
    assert [(r["name"], r["observed"], r["ready"]) for r in live["rows"]] == [("canary-00001", 80, 1), ("canary-r2", 20, 1)]

    with django_capture_on_commit_callbacks(execute=True):
        response = api(deployer).post(f"/api/v1/deployments/{d.pk}/rollout/", {"action": "promote"}, format="json")
    assert response.status_code == 202 and response.json()["state"] == "none"
    _push(d, 2)
    assert sandbox.object(KSVC, NS, "canary")["spec"]["traffic"] == [{"latestRevision": True, "percent": 100}]
    _ready(sandbox, d)
    assert set(_pods_by_revision(sandbox, "canary")) == {"canary-r2"}
    assert Event.objects.filter(deployment=d, message__startswith="Canary promoted").exists()


def test_roll_back_from_the_page_sends_all_traffic_to_the_stable_revision(
        serving, sandbox, deployer, login, django_capture_on_commit_callbacks):
    d = serving
    rollouts.rollout_start(user=deployer, deployment=d, spec=_changed(), canary_percent=30)
    _push(d, 2)
    _ready(sandbox, d)
    with django_capture_on_commit_callbacks(execute=True):
        response = login(deployer).post(f"/deployments/{d.pk}/traffic/", {"action": "rollback"})
    assert response.status_code == 302
    _push(d, 2)
    assert sandbox.object(KSVC, NS, "canary")["spec"]["traffic"][0] == {
        "revisionName": "canary-00001", "percent": 100, "tag": "stable"}
    _ready(sandbox, d)
    assert set(_pods_by_revision(sandbox, "canary")) == {"canary-00001"}
    d.refresh_from_db()
    assert d.canary_percent == 0 and d.current_revision.number == 2
    # A later change without a canary takes all the traffic again.
    from deployments.services.lifecycle import deployment_update
    deployment_update(user=deployer, deployment=d, spec=online_spec(name="canary", scaling=SCALING))
    _push(d, 3)
    assert sandbox.object(KSVC, NS, "canary")["spec"]["traffic"] == [{"latestRevision": True, "percent": 100}]


def test_the_percent_is_set_and_changed_from_the_page(serving, sandbox, deployer, login):
    d = serving
    rollouts.rollout_start(user=deployer, deployment=d, spec=_changed(), canary_percent=10)
    response = login(deployer).post(f"/deployments/{d.pk}/traffic/", {"canary_percent": "25"})
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.canary_percent == 25 and d.status == "queued"
    bad = login(deployer).post(f"/deployments/{d.pk}/traffic/", {"canary_percent": "100"}, follow=True)
    assert b"1 to 99" in bad.content and Deployment.objects.get(pk=d.pk).canary_percent == 25


def test_refusals_name_the_field(serving, api, deployer, viewer, outsider, team):
    d = serving
    url = f"/api/v1/deployments/{d.pk}/rollout/"
    errors = assert_error_shape(api(deployer).post(url, {"canary_percent": 100, "spec": CHANGE}, format="json"), 400)
    assert errors[0]["field"] == "canary_percent"
    errors = assert_error_shape(api(deployer).post(url, {"action": "promote"}, format="json"), 409)
    assert errors[0]["field"] == "rollout"
    errors = assert_error_shape(api(deployer).post(url, {"canary_percent": 20}, format="json"), 409)
    assert errors[0]["field"] == "revision"  # revision 1 already takes all the traffic
    assert_error_shape(api(deployer).post(url, {}, format="json"), 400)
    assert api(viewer).post(url, {"canary_percent": 20, "spec": CHANGE}, format="json").status_code == 403
    assert api(outsider).get(url).status_code == 404
    assert login_free_get(api(deployer), url)["state"] == "none"


def login_free_get(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_first_revision_and_a_batch_deployment_have_no_canary(db, deployer, api):
    from deployments.services.lifecycle import deployment_create
    from tests.factories import batch_spec

    fresh = deployment_create(user=deployer, spec=online_spec(name="fresh"))
    errors = assert_error_shape(api(deployer).post(f"/api/v1/deployments/{fresh.pk}/rollout/",
                                                   {"canary_percent": 20, "spec": CHANGE}, format="json"), 409)
    assert errors[0]["field"] == "revision" and "no previous ready revision" in errors[0]["message"]
    batch = deployment_create(user=deployer, spec=batch_spec(name="nightly"))
    errors = assert_error_shape(api(deployer).post(f"/api/v1/deployments/{batch.pk}/rollout/",
                                                   {"canary_percent": 20}, format="json"), 409)
    assert errors[0]["field"] == "workload"


def test_an_edit_from_the_wizard_can_go_out_as_a_canary(serving, sandbox, deployer, login,
                                                        django_capture_on_commit_callbacks, dispatched):
    from deployments.models import Draft

    d, client = serving, login(deployer)
    assert client.get(f"/deployments/{d.pk}/edit/").status_code == 302
    draft = Draft.objects.get(deployment=d)
    Draft.objects.filter(pk=draft.pk).update(data=_changed(), step=6)
    review = client.get(f"/drafts/{draft.pk}/step/6/").content.decode()
    assert 'id="canary-choice"' in review and 'name="canary_percent"' in review
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/drafts/{draft.pk}/step/6/", {"rollout": "canary", "canary_percent": "20"})
    assert response.status_code == 302
    d.refresh_from_db()
    assert (d.rollout_stable, d.rollout_candidate, d.canary_percent) == (1, 2, 20)
    _push(d, 2)
    assert [t["percent"] for t in sandbox.object(KSVC, NS, "canary")["spec"]["traffic"]] == [80, 20]


def test_the_wizard_review_offers_no_canary_for_a_new_deployment(db, deployer, login, team):
    from deployments.models import Draft

    draft = Draft.objects.create(user=deployer, data=online_spec(name="fresh"), step=6)
    review = login(deployer).get(f"/drafts/{draft.pk}/step/6/").content.decode()
    assert "Deploy" in review and 'id="canary-choice"' not in review


def test_a_canary_step_is_not_refused_because_the_worker_took_the_push_meanwhile(serving, deployer, dispatched):
    d = rollouts.rollout_start(user=deployer, deployment=serving, spec=_changed(), canary_percent=20)
    page = Deployment.objects.select_related("current_revision").get(pk=d.pk)  # the page, read while queued
    assert page.status == "queued"
    Deployment.objects.filter(pk=d.pk).update(status="applying")  # the worker has taken the push since
    rollouts.rollout_set(user=deployer, deployment=page, canary_percent=50)
    stored = Deployment.objects.get(pk=d.pk)
    assert (stored.status, stored.canary_percent) == ("queued", 50)
