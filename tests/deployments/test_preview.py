"""deployment_preview and POST /api/v1/deployments/preview/: the dry run a user sees before deploying."""

import pytest
from django.test import Client

from deployments.models import Deployment, Revision
from deployments.services.preview import deployment_preview
from teams.models import ApiToken, token_hash
from tests.factories import DeploymentFactory, batch_spec, online_spec

URL = "/api/v1/deployments/preview/"
KEYS = {"spec", "target", "manifests", "warnings", "errors", "cost", "checklist"}


def _post(client, spec, **headers):
    return client.post(URL, spec, content_type="application/json", **headers)


def test_valid_spec_previews_with_200_and_stores_nothing(login, owner):
    response = _post(login(owner), online_spec())
    assert response.status_code == 200, response.json()
    body = response.json()
    assert KEYS <= body.keys() and body["errors"] == []
    assert body["target"] == "knative"
    assert [m["kind"] for m in body["manifests"]] == ["Service"]
    assert body["spec"]["compute"]["gpu_class"] == "RTX_A5000"
    assert body["cost"] == {"currency": "USD", "per_hour_min": 0.0, "per_hour_max": 1.54, "per_month_min": 0.0,
                            "per_month_max": 1124.2, "basis": body["cost"]["basis"]}
    assert {e["field"] for e in body["explanations"]} >= {"compute.gpu_class", "storage.tier"}
    assert {c["key"]: c["status"] for c in body["checklist"]}["bin_packing"] == "ok"
    assert Deployment.objects.count() == 0 and Revision.objects.count() == 0


def test_errors_give_400_with_the_same_body(login, owner):
    response = _post(login(owner), online_spec(models_per_gpu=2))
    assert response.status_code == 400
    body = response.json()
    assert KEYS <= body.keys() and body["manifests"] == []
    assert body["errors"] == [{"code": "bin_packing", "field": "models_per_gpu", "message": body["errors"][0]["message"]}]
    assert {c["key"]: c["status"] for c in body["checklist"]}["bin_packing"] == "error"


def test_warnings_never_block(login, owner):
    spec = online_spec(request_queue=True, region_preference="closest-to-users")
    spec["model"]["format"] = "safetensors"
    response = _post(login(owner), spec)
    assert response.status_code == 200
    codes = [w["code"] for w in response.json()["warnings"]]
    assert codes == ["request_queue_discouraged", "region_by_proximity", "use_tensorizer"]
    checklist = {c["key"]: c["status"] for c in response.json()["checklist"]}
    assert checklist["request_queue"] == checklist["region"] == checklist["storage"] == "warning"


def test_token_authentication(owner):
    key = ApiToken.generate_key()
    ApiToken.objects.create(user=owner, name="ci", prefix=key[:8], key_hash=token_hash(key))
    response = _post(Client(), batch_spec(), HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["target"] == "argo" and body["manifests"][0]["kind"] == "Workflow"
    assert body["cost"]["per_run_max"] == 0.77


def test_anonymous_is_refused_in_the_api_error_shape(db):
    response = _post(Client(), online_spec())
    assert response.status_code in (401, 403)
    assert response.json()["errors"][0]["code"] == "not_authenticated"


def test_outsider_cannot_preview_for_another_team(login, outsider, team):
    response = _post(login(outsider), online_spec())
    assert response.status_code == 400
    assert [e["code"] for e in response.json()["errors"]] == ["unknown_team"]


def test_over_quota_counts_the_teams_running_deployments(owner, team):
    team.gpu_quota = 4
    team.save()
    assert deployment_preview(spec=online_spec(scaling={"max_replicas": 4}), user=owner)["errors"] == []
    running = online_spec(name="other", compute={"gpu_class": "A40", "gpus_per_replica": 2, "region": "LAS1"},
                          scaling={"min_replicas": 0, "max_replicas": 1})
    DeploymentFactory(team=team, name="other", revision=running)
    result = deployment_preview(spec=online_spec(scaling={"max_replicas": 4}), user=owner)
    [error] = result["errors"]
    assert error["code"] == "over_quota" and error["field"] == "scaling.max_replicas"
    assert "up to 4 GPUs" in error["message"] and "up to 2" in error["message"] and "platform staff" in error["message"]
    assert result["manifests"], "the user still sees what would be deployed"


def test_over_budget_is_over_quota(owner, team):
    team.monthly_budget_usd = 1000
    team.save()
    result = deployment_preview(spec=online_spec(scaling={"max_replicas": 2}), user=owner)
    [error] = result["errors"]
    assert error["code"] == "over_quota" and "$1,124.20" in error["message"]


def test_no_fitting_gpu_is_an_error_with_a_region_that_has_one(owner):
    # 175B bf16 needs 422 GB; LGA1 holds at most 8 × 48 GB even over PCIe (70B would fit there, on 4 × A40).
    spec = online_spec(compute={"region": "LGA1"})
    spec["model"]["parameters_billions"] = 175
    result = deployment_preview(spec=spec, user=owner)
    assert [e["code"] for e in result["errors"]] == ["insufficient_gpu_memory"]
    assert result["manifests"] == [] and result["cost"] is None


PATHS = ["name", "workload", "target", "runtime", "runtime.image", "runtime.port", "runtime.args", "runtime.env",
         "runtime.secret_env", "model.parameters_billions", "model.precision", "model.uri", "storage.tier",
         "storage.pvc_size_gi", "compute.gpu_class", "compute.gpus_per_replica", "compute.cpu", "scaling",
         "scaling.min_replicas", "scaling.max_replicas", "scaling.scale_to_zero_retention", "batching",
         "batching.max_batch_size", "access.visibility", "request_queue", "models_per_gpu"]


@pytest.mark.timeout(120)
def test_any_json_value_anywhere_gives_an_answer_not_a_crash(owner):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    json_values = st.recursive(
        st.none() | st.booleans() | st.integers(-10, 10**6) | st.floats(allow_nan=False) | st.text(max_size=30),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=5,
    )

    @settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(PATHS), json_values)
    def check(path, value):
        spec = online_spec(target="kserve", batching={"max_batch_size": 4, "max_latency_ms": 20})
        *parents, last = path.split(".")
        node = spec
        for key in parents:
            node = node[key] if isinstance(node.get(key), dict) else node.setdefault(key, {})
        node[last] = value
        result = deployment_preview(spec=spec, user=owner)
        assert result["errors"] or result["manifests"]

    check()


def test_a_body_that_is_not_an_object(login, owner):
    response = login(owner).post(URL, [1, 2], content_type="application/json")
    assert response.status_code == 400
    assert [e["code"] for e in response.json()["errors"]] == ["invalid_value"]


def test_the_completed_spec_previews_to_the_same_result(owner):
    first = deployment_preview(spec=online_spec(), user=owner)
    again = deployment_preview(spec=first["spec"], user=owner)
    assert again["errors"] == [] and again["spec"] == first["spec"] and again["manifests"] == first["manifests"]
    assert again["explanations"] == []


def test_only_json_is_accepted_and_odd_team_slugs_are_unknown_teams(login, owner):
    client = login(owner)
    assert client.post(URL, {"name": "x"}).status_code == 415
    response = _post(client, online_spec(team="nlp\x00", name="llama-chat\n"))
    assert {e["code"] for e in response.json()["errors"]} == {"unknown_team", "invalid_name"}


def test_budget_check_counts_what_was_already_spent_this_month(owner, team):
    """$1,124.20 a month fits a $2,000 budget, but not once $1,000 of it is spent."""
    from django.utils import timezone

    from spend.models import DailySpend
    from tests.factories import DeploymentFactory

    team.monthly_budget_usd = 2000
    team.save()
    spec = online_spec(scaling={"max_replicas": 2})
    assert deployment_preview(spec=spec, user=owner)["errors"] == []
    earlier = DeploymentFactory(team=team, name="earlier", status="deleted")
    DailySpend.objects.create(deployment=earlier, team=team, day=timezone.now().date(), cost_usd=1000)
    [error] = deployment_preview(spec=spec, user=owner)["errors"]
    assert error["code"] == "over_quota"
    assert "$1,000.00 of $2,000.00 after $1,000.00 spent this month" in error["message"]


def test_a_cpu_deployment_previews_without_gpus_and_holds_no_gpu_quota(login, owner, team):
    from deployments.services.quota import spec_gpus_max

    spec = online_spec(compute={"accelerator": "cpu", "region": "LAS1"},
                       scaling={"min_replicas": 1, "max_replicas": 4, "latency_tolerance": "relaxed"})
    spec["model"] = {"uri": "s3://models/tiny/", "parameters_billions": 1, "format": "safetensors"}
    team.gpu_quota = 0  # a team without GPUs may still run CPU nodes
    team.save(update_fields=["gpu_quota"])
    body = _post(login(owner), spec).json()
    assert body["errors"] == [], body["errors"]
    assert "nvidia.com/gpu" not in str(body["manifests"])
    # 8 vCPU × $0.01 + 8 GiB × $0.005 = $0.12 per replica-hour; 1–4 replicas: $0.12–0.48, $87.60–350.40 a month.
    cost = body["cost"]
    assert (cost["per_hour_min"], cost["per_hour_max"], cost["per_month_min"], cost["per_month_max"]) == (
        0.12, 0.48, 87.6, 350.4)
    assert spec_gpus_max(body["spec"]) == 0


def test_a_name_the_team_already_uses_is_refused_by_preview_until_that_deployment_is_deleted(login, owner, team):
    existing = DeploymentFactory(team=team, name="llama-chat")
    response = _post(login(owner), online_spec())
    assert response.status_code == 400
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [("name_taken", "name")]
    assert "nlp" in response.json()["errors"][0]["message"]
    # Its own edit is not a clash, and a deleted deployment frees the name.
    assert deployment_preview(spec=online_spec(), user=owner, exclude_deployment=existing)["errors"] == []
    Deployment.objects.filter(pk=existing.pk).update(status="deleted")
    assert _post(login(owner), online_spec()).status_code == 200
