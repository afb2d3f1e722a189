"""YAML bodies (issue 19): accepted wherever JSON is, with the same validation and error shape; aliases (YAML
bombs), tags and oversized bodies refused with an error that names the problem."""

import json
import time

import pytest
import yaml

from deployments.models import Deployment
from tests.api_fixtures import assert_error_shape
from tests.factories import online_spec

pytestmark = pytest.mark.django_db

PREVIEW, DEPLOYMENTS = "/api/v1/deployments/preview/", "/api/v1/deployments/"
YAML_TYPES = ["application/yaml", "application/x-yaml"]


@pytest.fixture
def client(api, owner):
    client = api(owner)
    client.raise_request_exception = False  # a 500 is an answer to assert on
    return client


def post_yaml(client, path, text, content_type="application/yaml"):
    return client.generic("POST", path, text.encode(), content_type=content_type)


def spec_yaml(**overrides):
    return yaml.safe_dump(online_spec(**overrides), sort_keys=False)


@pytest.mark.parametrize("content_type", YAML_TYPES)
def test_a_yaml_preview_answers_exactly_as_the_json_one(client, content_type):
    as_json = client.post(PREVIEW, online_spec(), format="json")
    as_yaml = post_yaml(client, PREVIEW, spec_yaml(), content_type)
    assert as_yaml.status_code == as_json.status_code == 200
    assert as_yaml.json() == as_json.json()


def test_invalid_specs_get_the_same_errors_in_yaml_as_in_json(client):
    bad = online_spec(name="Llama Chat", models_per_gpu=2, compute={"region": "LAS1", "gpu_class": "NO_SUCH_GPU"})
    as_json = client.post(PREVIEW, bad, format="json")
    as_yaml = post_yaml(client, PREVIEW, yaml.safe_dump(bad))
    assert as_yaml.status_code == as_json.status_code == 400
    assert as_yaml.json()["errors"] == as_json.json()["errors"]
    assert {"invalid_name", "bin_packing"} <= {e["code"] for e in as_yaml.json()["errors"]}
    created = post_yaml(client, DEPLOYMENTS, yaml.safe_dump(bad))
    assert_error_shape(created, 400, "invalid_name")
    assert not Deployment.objects.exists()


def test_create_change_and_roll_back_with_yaml_bodies(client):
    created = post_yaml(client, DEPLOYMENTS, spec_yaml(), "application/x-yaml")
    assert created.status_code == 201, created.content
    url = f"{DEPLOYMENTS}{created.json()['id']}/"
    changed = client.generic("PATCH", url, b"scaling:\n  max_replicas: 3\n", content_type="application/yaml")
    assert changed.status_code == 200, changed.content
    assert changed.json()["revision"] == 2 and changed.json()["spec"]["scaling"]["max_replicas"] == 3
    rolled = post_yaml(client, f"{url}rollback/", "revision: 1\n")
    assert rolled.status_code == 200 and rolled.json()["spec"]["scaling"]["max_replicas"] == 2


def test_dates_stay_text_and_yaml_comments_are_fine(client):
    text = "# the nightly image\n" + yaml.safe_dump(
        online_spec(runtime={"image": "ghcr.io/acme/llm-server:1.4", "env": {"BUILD_DATE": "x"}}))
    text = text.replace("BUILD_DATE: x", "BUILD_DATE: 2025-01-31  # unquoted: YAML 1.1 would make it a date")
    response = post_yaml(client, PREVIEW, text)
    assert response.status_code == 200, response.json()["errors"]
    assert response.json()["spec"]["runtime"]["env"] == {"BUILD_DATE": "2025-01-31"}


BOMB = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
name: [*i, *i, *i, *i, *i, *i, *i, *i, *i]
"""


@pytest.mark.parametrize("path", [PREVIEW, DEPLOYMENTS])
def test_a_yaml_bomb_is_refused_at_once_naming_the_alias(client, path):
    started = time.monotonic()
    response = post_yaml(client, path, BOMB)
    assert time.monotonic() - started < 2
    [error] = assert_error_shape(response, 400, "parse_error")
    assert "aliases are not accepted (*a)" in error["message"] and "line 2" in error["message"]
    assert not Deployment.objects.exists()


def test_even_a_single_alias_is_refused(client):
    text = spec_yaml().replace("runtime:", "labels: &shared {}\nruntime:") + "extra: *shared\n"
    [error] = assert_error_shape(post_yaml(client, PREVIEW, text), 400, "parse_error")
    assert "aliases are not accepted (*shared)" in error["message"]


@pytest.mark.parametrize(("value", "named"), [
    ("!!python/object/apply:os.system ['touch /tmp/gantry-pwned']", "!!python/object/apply:os.system"),
    ("!!python/name:os.system", "!!python/name:os.system"),
    ("!!binary aGVsbG8=", "!!binary"),
    ("!!set {a, b}", "!!set"),
    ("!!timestamp 2025-01-31", "!!timestamp"),
    ("!vault secret", "!vault"),
])
def test_tags_beyond_plain_values_are_refused_naming_the_tag(client, value, named):
    text = spec_yaml().replace("image: ghcr.io/acme/llm-server:1.4", f"image: {value}")
    [error] = assert_error_shape(post_yaml(client, PREVIEW, text), 400, "parse_error")
    assert f"the tag {named} is not accepted" in error["message"] and "line " in error["message"]


@pytest.mark.parametrize(("text", "words"), [
    ("name: llama-chat\n  team: nlp\n", "mapping values are not allowed in this context (line 2"),
    ("name: [llama-chat\n", "line 2"),
    ("name: a\n---\nname: b\n", "expected a single document"),
    ("1: one\n", 'a mapping key must be text; quote it: "1"'),
    ("on: push\n", 'quote it: "on"'),
    ("# nothing but a comment\n", "the document is empty"),
    ("a:\n" + "".join(f"{'  ' * i}- b:\n" for i in range(150)), "nests lists and mappings more than 100 deep"),
    ("[" * 100_000 + "]" * 100_000, "nest"),  # libyaml may stop it first, at its own limit
    ("replicas: " + "9" * 5000 + "\n", "a number has too many digits"),
])
def test_what_yaml_cannot_say_as_json_is_a_400_naming_the_problem(client, text, words):
    [error] = assert_error_shape(post_yaml(client, PREVIEW, text), 400, "parse_error")
    assert error["message"].startswith("YAML parse error - ") and words in error["message"], error


def test_a_body_that_is_not_utf8_is_a_400(client):
    response = client.generic("POST", PREVIEW, "name: café\n".encode("latin-1"), content_type="application/yaml")
    [error] = assert_error_shape(response, 400, "parse_error")
    assert "not utf-8 text" in error["message"]


@pytest.mark.parametrize("infinity", [".inf", "-.inf", ".nan"])
def test_non_finite_numbers_are_invalid_values_as_in_json(client, infinity):
    text = spec_yaml().replace("parameters_billions: 8.0", f"parameters_billions: {infinity}")
    assert infinity in text
    as_yaml = post_yaml(client, PREVIEW, text)
    as_json = client.generic("POST", PREVIEW, json.dumps(online_spec()).replace('"parameters_billions": 8.0',
                                                                                  '"parameters_billions": 1e400'),
                             content_type="application/json")
    assert as_yaml.status_code == as_json.status_code == 400
    assert [(e["code"], e["field"]) for e in as_yaml.json()["errors"]] == \
        [(e["code"], e["field"]) for e in as_json.json()["errors"]]
    assert "invalid_value" in [e["code"] for e in as_yaml.json()["errors"]]


def test_an_oversized_yaml_body_is_413_in_the_error_shape(client, settings):
    text = spec_yaml(runtime={"image": "ghcr.io/acme/x:1", "args": ["y" * 1000] * 300})
    assert len(text) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    [error] = assert_error_shape(post_yaml(client, DEPLOYMENTS, text), 413, "too_large")
    assert "send at most 256 KiB" in error["message"]
    assert not Deployment.objects.exists()


def test_the_openapi_document_offers_yaml_for_every_json_request_body(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    bodies = [op["requestBody"]["content"] for path in schema["paths"].values() for op in path.values()
              if isinstance(op, dict) and "requestBody" in op]
    assert len(bodies) >= 4
    for content in bodies:
        for media_type in YAML_TYPES:
            assert content[media_type]["schema"] == content["application/json"]["schema"]
