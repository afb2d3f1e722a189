
import pytest
import yaml

from deployments.models import Deployment
from specs.vocabulary import Status
from tests.api_fixtures import assert_error_shape, stored_deployment
from tests.factories import online_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def push(dispatched):
    delay = dispatched.push
    yield delay


def test_create_returns_the_stored_deployment_and_queues_the_push_after_commit(
    api, deployer, push, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api(deployer).post("/api/v1/deployments/", online_spec(), format="json")
        assert not push.called  # nothing is published before the transaction commits
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"]["phase"] == "queued" and body["revision"] == 1
    assert body["spec"]["compute"]["gpu_class"]  # the recommender filled it in
    assert response["Location"] == f"/api/v1/deployments/{body['id']}/"
    for callback in callbacks:
        callback()
    push.assert_called_once_with(body["id"], 1)


def test_the_create_answer_is_the_deployment_as_its_detail_shows_it(api, deployer, push):
    # The create answers from the deployment it made (no re-read, no spend query): the same body as a GET.
    client = api(deployer)
    created = client.post("/api/v1/deployments/", online_spec(), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body == client.get(f"/api/v1/deployments/{body['id']}/").json()
    assert body["spend"]["month_usd"] == 0 and body["spend"]["price_per_gpu_hour"] > 0


def test_validation_errors_name_the_field(api, deployer, push):
    spec = online_spec(name="Not A DNS Label", models_per_gpu=3)
    errors = assert_error_shape(api(deployer).post("/api/v1/deployments/", spec, format="json"), 400)
    assert {(e["code"], e["field"]) for e in errors} >= {("invalid_name", "name"), ("bin_packing", "models_per_gpu")}
    assert not Deployment.objects.exists()


def test_over_quota_is_stored_as_pending_approval_and_not_pushed(api, deployer, team, push,
                                                                 django_capture_on_commit_callbacks):
    team.gpu_quota = 1
    team.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = api(deployer).post("/api/v1/deployments/", online_spec(), format="json")
    assert response.status_code == 201
    assert response.json()["status"]["phase"] == "pending_approval"
    assert "quota" in response.json()["approval_reason"]
    assert not push.called


def test_same_idempotency_key_twice_gives_one_deployment(api, deployer, push, django_capture_on_commit_callbacks):
    client = api(deployer)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post("/api/v1/deployments/", online_spec(), format="json", HTTP_IDEMPOTENCY_KEY="run-42")
        again = client.post("/api/v1/deployments/", online_spec(), format="json", HTTP_IDEMPOTENCY_KEY="run-42")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Deployment.objects.count() == 1 and push.call_count == 1
    # Without a key, the same name is refused rather than silently duplicated.
    errors = assert_error_shape(client.post("/api/v1/deployments/", online_spec(), format="json"), 400)
    assert errors[0]["field"] == "name"


def test_detail_has_spec_status_and_spend(api, viewer, deployment):
    body = api(viewer).get(f"/api/v1/deployments/{deployment.pk}/").json()
    assert body["status"] == {
        "phase": "running", "message": "", "ready_pods": 0, "total_pods": 0, "scaled_to_zero": False,
        "url": None, "last_synced_at": None, "final": False,
    }
    assert body["spec"]["name"] == "llama-chat" and body["team"] == "nlp"
    assert body["spend"]["month_usd"] == 0 and body["spend"]["currency"] == "USD"


def test_list_filters_orders_and_paginates(api, viewer, team):
    for name, status in [("a-svc", Status.RUNNING), ("b-svc", Status.FAILED), ("c-svc", Status.RUNNING)]:
        stored_deployment(team, name=name, status=status)
    client = api(viewer)
    running = client.get("/api/v1/deployments/?status=running&ordering=-name").json()
    assert [d["name"] for d in running["results"]] == ["c-svc", "a-svc"] and running["count"] == 2
    page = client.get("/api/v1/deployments/?team=nlp&page_size=2").json()
    assert len(page["results"]) == 2 and page["next"] and page["count"] == 3
    assert client.get("/api/v1/deployments/?team=vision").json()["count"] == 0
    assert_error_shape(client.get("/api/v1/deployments/?status=sleeping"), 400)[0]["field"] == "status"
    assert_error_shape(client.get("/api/v1/deployments/?ordering=secret"), 400)[0]["field"] == "ordering"


def test_manifests_as_json_and_as_a_yaml_stream(api, viewer, deployment):
    client = api(viewer)
    body = client.get(f"/api/v1/deployments/{deployment.pk}/manifests/").json()
    assert body["revision"] == 1
    kinds = [o["kind"] for o in body["manifests"]]
    assert "Service" in kinds
    response = client.get(f"/api/v1/deployments/{deployment.pk}/manifests/?format=yaml")
    assert response["Content-Type"].startswith("application/yaml")
    documents = list(yaml.safe_load_all(response.content))
    assert [d["kind"] for d in documents] == kinds
    assert all(d["metadata"]["namespace"] == "tenant-nlp" for d in documents if d["kind"] != "Namespace")


def test_patch_merges_into_the_spec_and_rollback_restores_it(api, deployer, deployment, push,
                                                             django_capture_on_commit_callbacks):
    client = api(deployer)
    with django_capture_on_commit_callbacks(execute=True):
        changed = client.patch(f"/api/v1/deployments/{deployment.pk}/", {"scaling": {"max_replicas": 3}},
                               format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["spec"]["scaling"]["max_replicas"] == 3
    assert changed.json()["spec"]["runtime"]["image"] == "ghcr.io/acme/llm-server:1.4"  # the rest is kept

    revisions = client.get(f"/api/v1/deployments/{deployment.pk}/revisions/").json()
    assert [(r["number"], r["current"]) for r in revisions] == [(2, True), (1, False)]
    # Revision 2 is queued, not pushed: no time to ready yet, but the estimate to compare it with.
    assert (revisions[0]["pushed_at"], revisions[0]["ready_at"], revisions[0]["time_to_ready_seconds"]) == (
        None, None, None)
    cold = revisions[0]["cold_start"]
    assert 0 < cold["min_seconds"] < cold["max_seconds"]

    with django_capture_on_commit_callbacks(execute=True):
        rolled = client.post(f"/api/v1/deployments/{deployment.pk}/rollback/", {"revision": 1}, format="json")
    assert rolled.status_code == 200 and rolled.json()["revision"] == 3
    assert rolled.json()["spec"]["scaling"]["max_replicas"] == 2
    assert push.calls == [(deployment.pk, 2), (deployment.pk, 3)]
    assert_error_shape(client.post(f"/api/v1/deployments/{deployment.pk}/rollback/", {"revision": 9},
                                   format="json"), 400, "unknown_revision")


def test_patch_with_an_invalid_change_is_refused(api, deployer, deployment, push):
    response = api(deployer).patch(f"/api/v1/deployments/{deployment.pk}/",
                                   {"scaling": {"scale_to_zero_retention": "3h"}}, format="json")
    assert_error_shape(response, 400, "scale_to_zero_retention_too_long")
    deployment.refresh_from_db()
    assert deployment.current_revision.number == 1


def test_delete_twice_is_harmless(api, owner, deployment):
    client = api(owner)
    assert client.delete(f"/api/v1/deployments/{deployment.pk}/").status_code == 202
    again = client.delete(f"/api/v1/deployments/{deployment.pk}/")
    assert again.status_code == 202 and again.json()["status"]["phase"] == "deleting"


def test_a_team_filter_that_is_not_a_slug_is_a_400_not_a_database_error(api, deployer, deployment):
    # Found by schemathesis: a NUL byte reached PostgreSQL as a filter value and answered 500.
    for value in ["nlp\x00", "Ïë", "x" * 40]:
        response = api(deployer).get("/api/v1/deployments/", {"team": value})
        assert assert_error_shape(response, 400)[0]["field"] == "team"
    assert api(deployer).get("/api/v1/deployments/", {"team": "nlp"}).json()["count"] == 1


def test_the_dashboard_ignores_a_team_filter_that_is_not_a_slug(login, deployer, deployment):
    response = login(deployer).get("/", {"team": "nlp\x00"})
    assert response.status_code == 200 and "llama-chat" in response.content.decode()


def test_the_same_idempotency_key_with_another_body_is_a_422_and_stores_nothing(api, deployer, dispatched):
    client = api(deployer)
    first = client.post("/api/v1/deployments/", online_spec(), format="json", HTTP_IDEMPOTENCY_KEY="run-7")
    assert first.status_code == 201, first.content
    other = client.post("/api/v1/deployments/", online_spec(name="other"), format="json", HTTP_IDEMPOTENCY_KEY="run-7")
    errors = assert_error_shape(other, 422, "idempotency_key_reused")
    assert errors[0]["field"] == "Idempotency-Key"
    assert Deployment.objects.count() == 1


def test_an_idempotency_key_is_free_again_after_24_hours(api, deployer, dispatched):
    from datetime import timedelta

    from django.utils import timezone

    from deployments.models import IdempotencyKey

    client = api(deployer)
    assert client.post("/api/v1/deployments/", online_spec(), format="json",
                       HTTP_IDEMPOTENCY_KEY="nightly").status_code == 201
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    again = client.post("/api/v1/deployments/", online_spec(name="tomorrow"), format="json",
                        HTTP_IDEMPOTENCY_KEY="nightly")
    assert again.status_code == 201, again.content
    assert again.json()["spec"]["name"] == "tomorrow"


def test_revisions_report_their_time_to_ready(api, owner, deployment):
    from datetime import timedelta

    from django.utils import timezone

    from deployments.models import Revision

    pushed = timezone.now() - timedelta(minutes=2)
    Revision.objects.filter(deployment=deployment, number=1).update(pushed_at=pushed,
                                                                    ready_at=pushed + timedelta(seconds=42.5))
    [rev] = api(owner).get(f"/api/v1/deployments/{deployment.pk}/revisions/").json()
    assert rev["time_to_ready_seconds"] == 42.5
    assert rev["pushed_at"] and rev["ready_at"] > rev["pushed_at"]
