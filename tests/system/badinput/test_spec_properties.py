"""Any JSON at the validator, the preview and the create endpoint: a clear answer, never a crash.

Hypothesis generates arbitrary JSON documents and mutations of a valid spec (a random
value at a random path). Budgets are small (a few dozen examples each) so the whole
bad-input suite stays well under a minute and a half.
"""

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.selectors import catalog_snapshot
from deployments.models import Deployment
from deployments.services.preview import deployment_preview
from specs.validation import spec_validate
from teams.selectors import team_slugs_for_user
from tests.factories import batch_spec, online_spec

pytestmark = pytest.mark.django_db

BUDGET = settings(max_examples=40, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False) | st.text(max_size=60))
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4),
    max_leaves=20,
)
SPEC_KEYS = ["name", "team", "workload", "target", "runtime", "model", "storage", "compute", "scaling",
             "batching", "batch", "access", "request_queue", "models_per_gpu", "region_preference"]
# Keys a mutation may land on: real spec keys (so the deep checks run) and a few strangers.
mutation_keys = st.sampled_from(SPEC_KEYS + ["image", "env", "secret_env", "uri", "gpu_class", "region",
                                             "min_replicas", "max_replicas", "parallelism", "tier", "extra"])
spec_like = st.dictionaries(st.sampled_from(SPEC_KEYS), json_values, max_size=8)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))


@st.composite
def mutated_specs(draw):
    """A valid online or batch spec with 1-3 values replaced (or new keys added) at random paths."""
    spec = copy.deepcopy(draw(st.sampled_from([online_spec(), batch_spec()])))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(sorted(_paths(spec), key=str)))
        if not path:
            continue
        if draw(st.booleans()) and isinstance(spec_get(spec, path), dict):
            path = path + (draw(mutation_keys),)
        value = draw(json_values)
        parent = spec_get(spec, path[:-1])
        if isinstance(parent, dict):
            parent[path[-1]] = value
    return spec


def spec_get(spec, path):
    for key in path:
        spec = spec[key]
    return spec


def assert_issue_shape(issues):
    assert isinstance(issues, list)
    for issue in issues:
        assert set(issue) == {"code", "field", "message"}, issue
        assert isinstance(issue["code"], str) and issue["code"]
        assert issue["field"] is None or isinstance(issue["field"], str)
        assert isinstance(issue["message"], str) and issue["message"].strip()


@pytest.fixture
def facts(db, owner):
    return {"catalog": catalog_snapshot(), "teams": team_slugs_for_user(owner)}


@BUDGET
@given(data=json_values | spec_like)
def test_validator_answers_any_json_with_issues(data, team, facts):
    result = spec_validate(data, **facts)
    assert_issue_shape([e.as_dict() for e in result.errors] + [w.as_dict() for w in result.warnings])
    json.dumps(result.spec)  # what is handed on stays JSON
    if not isinstance(data, dict):
        assert [e.code for e in result.errors] == ["invalid_value"]


@BUDGET
@given(spec=mutated_specs())
def test_preview_answers_any_mutation_of_a_valid_spec(spec, team, owner):
    result = deployment_preview(spec=spec, user=owner)
    json.dumps(result)
    assert_issue_shape(result["errors"])
    assert_issue_shape(result["warnings"])
    if result["errors"]:
        assert result["manifests"] == []
    else:
        assert result["manifests"] and all(isinstance(o, dict) and o["kind"] for o in result["manifests"])


def assert_answer(response, allowed):
    assert response.status_code in allowed, (response.status_code, response.content[:500])
    body = response.json()
    if response.status_code >= 400:
        assert body["errors"], body
        assert_issue_shape(body["errors"])
    return body


@BUDGET
@given(body=json_values | spec_like | mutated_specs())
def test_preview_endpoint_answers_any_json_body(body, api_client):
    response = api_client.post("/api/v1/deployments/preview/", json.dumps(body), content_type="application/json")
    assert_answer(response, {200, 400})


@BUDGET
@given(body=json_values | spec_like | mutated_specs())
def test_create_endpoint_answers_any_json_body(body, api_client):
    response = api_client.post("/api/v1/deployments/", json.dumps(body), content_type="application/json")
    data = assert_answer(response, {201, 400})
    if response.status_code == 201:
        assert Deployment.objects.filter(pk=data["id"]).exists()


@pytest.mark.parametrize("raw, content_type", [
    (b"{", "application/json"),
    (b'{"name": "x",}', "application/json"),
    (b"\xff\xfe\x00garbage", "application/json"),
    (b"NaN", "application/json"),
    (b'{"a": ' * 2000 + b"1" + b"}" * 2000, "application/json"),  # nested deeper than the parser allows
    (b"name=llama&team=nlp", "application/x-www-form-urlencoded"),
    (b"<spec/>", "application/xml"),
    (b"", "application/json"),
])
@pytest.mark.parametrize("path", ["/api/v1/deployments/preview/", "/api/v1/deployments/"])
def test_malformed_bodies_get_the_error_shape(api_client, raw, content_type, path):
    response = api_client.generic("POST", path, raw, content_type=content_type)
    assert response.status_code in (400, 415), (response.status_code, response.content[:300])
    assert_issue_shape(response.json()["errors"])
    assert not Deployment.objects.exists()
