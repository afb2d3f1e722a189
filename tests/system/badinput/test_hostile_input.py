"""Oversized bodies, odd names, injection attempts, garbage in the wizard: clear errors, data stays data."""

import json

import pytest
import yaml
from django.test import Client

from deployments.models import Deployment, Draft
from deployments.services.preview import deployment_preview
from specs.render import manifests_render
from tests.factories import batch_spec, online_spec

pytestmark = pytest.mark.django_db


def errors_of(response):
    body = response.json()
    for item in body["errors"]:
        assert set(item) == {"code", "field", "message"} and item["message"].strip()
    return body["errors"]


@pytest.mark.parametrize("path", ["/api/v1/deployments/preview/", "/api/v1/deployments/"])
def test_an_oversized_body_is_refused_with_the_error_shape(api_client, settings, path):
    body = json.dumps(online_spec(runtime={"image": "ghcr.io/acme/x:1", "args": ["y" * 1000] * 400}))
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = api_client.generic("POST", path, body, content_type="application/json")
    assert response.status_code in (400, 413), (response.status_code, response.content[:300])
    errors = errors_of(response)
    assert any("large" in e["message"].lower() or "size" in e["message"].lower() for e in errors), errors
    assert not Deployment.objects.exists()


BAD_NAMES = ["llama\u0000", "ünïcode", "\u202ellama", "llama\u200b", "llama\n", "\nllama", "ｌｌａｍａ",
             "a" * 41, "Llama", "-llama", "llama-", "llama chat", "llama.chat", "", "   ", "x\nkind: Secret"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_odd_names_are_refused_naming_the_field_and_the_fix(api_client, name):
    response = api_client.post("/api/v1/deployments/preview/", online_spec(name=name), format="json")
    assert response.status_code == 400
    errors = [e for e in errors_of(response) if e["code"] == "invalid_name"]
    assert errors and errors[0]["field"] == "name"
    assert "lowercase letters" in errors[0]["message"] and "1-40" in errors[0]["message"]
    response = api_client.post("/api/v1/deployments/", online_spec(name=name), format="json")
    assert response.status_code == 400 and "invalid_name" in [e["code"] for e in errors_of(response)]
    assert not Deployment.objects.exists()


def test_forty_characters_is_still_a_name(api_client):
    response = api_client.post("/api/v1/deployments/preview/", online_spec(name="a" * 40), format="json")
    assert response.status_code == 200, response.json()["errors"]


PAYLOADS = ["x\nkind: Secret", "{{ 7*7 }}", "{{7*7}}", "'; DROP TABLE deployments_deployment; --", "$(rm -rf /)",
            "`id`", '"},{"kind":"Secret"', "--- !!python/object/apply:os.system ['id']", "\u0000", "${HOME}",
            "a: b\n---\napiVersion: v1\nkind: Secret"]
# Every string a user sets: (path, how to put the payload there).
STRING_FIELDS = {
    "team": lambda s, p: s.update(team=p),
    "workload": lambda s, p: s.update(workload=p),
    "target": lambda s, p: s.update(target=p),
    "runtime.image": lambda s, p: s["runtime"].update(image=p),
    "runtime.image(tag)": lambda s, p: s["runtime"].update(image="ghcr.io/acme/llm-server:" + p),
    "runtime.args": lambda s, p: s["runtime"].update(args=["--flag", p]),
    "runtime.env": lambda s, p: s["runtime"].update(env={"GREETING": p}),
    "runtime.env(name)": lambda s, p: s["runtime"].update(env={p: "1"}),
    "runtime.secret_env": lambda s, p: s["runtime"].update(secret_env={"HF_TOKEN": p}),
    "runtime.protocol": lambda s, p: s["runtime"].update(protocol=p),
    "model.uri": lambda s, p: s["model"].update(uri="s3://models/" + p),
    "model.precision": lambda s, p: s["model"].update(precision=p),
    "model.format": lambda s, p: s["model"].update(format=p),
    "storage.tier": lambda s, p: s["storage"].update(tier=p),
    "storage.credentials_secret": lambda s, p: s["storage"].update(credentials_secret=p),
    "compute.gpu_class": lambda s, p: s["compute"].update(gpu_class=p),
    "compute.region": lambda s, p: s["compute"].update(region=p),
    "scaling.scale_to_zero_retention": lambda s, p: s["scaling"].update(scale_to_zero_retention=p),
    "scaling.latency_tolerance": lambda s, p: s["scaling"].update(latency_tolerance=p),
    "access.visibility": lambda s, p: s["access"].update(visibility=p),
    "region_preference": lambda s, p: s.update(region_preference=p),
}
BATCH_FIELDS = {
    "batch.inputs_uri": lambda s, p: s["batch"].update(inputs_uri="s3://data/" + p),
    "batch.outputs_uri": lambda s, p: s["batch"].update(outputs_uri="s3://data/" + p),
}


def _keys_and_strings(node, keys, strings):
    if isinstance(node, dict):
        for key, value in node.items():
            keys.append(key)
            _keys_and_strings(value, keys, strings)
    elif isinstance(node, list):
        for value in node:
            _keys_and_strings(value, keys, strings)
    elif isinstance(node, str):
        strings.append(node)


def _check_carried_as_data(manifests, payload, expected_kinds):
    assert [m["kind"] for m in manifests] == expected_kinds
    # A YAML stream of the objects reads back to exactly the same data: nothing was spliced into text.
    assert list(yaml.safe_load_all(yaml.safe_dump_all(manifests))) == manifests
    keys, strings = [], []
    _keys_and_strings(manifests, keys, strings)
    assert not any(payload in k for k in keys), "the payload became a key"
    assert payload in strings or any(s.endswith(payload) for s in strings), "an accepted value went missing"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_is_refused_or_carried_verbatim_as_a_value(team, owner, payload):
    for workload, fields, make, kinds in [("online", STRING_FIELDS, online_spec, ["Service"]),
                                          ("batch", BATCH_FIELDS, batch_spec, ["Workflow"])]:
        for path, put in fields.items():
            spec = make()
            put(spec, payload)
            result = deployment_preview(spec=spec, user=owner)
            if result["errors"]:
                field = path.split("(")[0]
                assert any((e["field"] or "").startswith(field.split(".")[0]) for e in result["errors"]), \
                    (path, result["errors"])
                assert result["manifests"] == []
            else:
                _check_carried_as_data(result["manifests"], payload, kinds)


def test_a_stored_payload_downloads_as_the_same_yaml_objects(dispatched, api_client):
    payload = "x\nkind: Secret\n---\n{{ 7*7 }} $(rm -rf /)"
    spec = online_spec(runtime={"image": "ghcr.io/acme/llm-server:1.4", "args": ["--prompt", payload],
                                "env": {"BANNER": payload}})
    response = api_client.post("/api/v1/deployments/", spec, format="json")
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    as_json = api_client.get(f"/api/v1/deployments/{pk}/manifests/").json()["manifests"]
    as_yaml = list(yaml.safe_load_all(api_client.get(f"/api/v1/deployments/{pk}/manifests/?format=yaml").content))
    assert as_yaml == as_json
    assert [o["kind"] for o in as_yaml] == ["Service"]
    container = as_yaml[0]["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["--prompt", payload]
    assert {"name": "BANNER", "value": payload} in container["env"]


def test_manifests_are_rendered_from_data_not_text():
    """Rendering a payload-laden spec twice gives equal objects, and the renderer never returns text."""
    preview = deployment_preview(spec=online_spec(team="nlp"))  # no team row: fails, but must not crash
    assert preview["errors"]
    spec = {**online_spec(), "compute": {"gpu_class": "A100_NVLINK_80GB", "gpus_per_replica": 1, "region": "LAS1",
                                          "cpu": 4, "memory_gi": 32},
            "storage": {"tier": "object", "credentials_secret": "s3-creds"},
            "scaling": {"min_replicas": 0, "max_replicas": 2, "target_concurrency": 1,
                        "target_utilization_percent": 85, "latency_tolerance": "moderate"}}
    spec["runtime"] = {**spec["runtime"], "args": ["{{ 7*7 }}", "x\nkind: Secret"]}
    objects = manifests_render(spec)
    assert all(isinstance(o, dict) for o in objects) and objects == manifests_render(spec)
    assert objects[0]["spec"]["template"]["spec"]["containers"][0]["args"] == ["{{ 7*7 }}", "x\nkind: Secret"]


GARBAGE = ["\u0000", "x\u0000y", "' OR 1=1 --", "9" * 400, "-1", "nan", "inf", "1e309", "ünïcode\u202e",
           "{{ 7*7 }}", "<script>alert(1)</script>", "   "]


@pytest.fixture
def wizard(team, owner):
    client = Client()
    client.raise_request_exception = False
    client.force_login(owner)
    draft = Draft.objects.create(user=owner, data=online_spec(name="wiz-svc"), step=5)
    return client, draft


@pytest.mark.timeout(60)
def test_wizard_steps_and_field_checks_survive_garbage(wizard):
    from deployments.forms import form_class_for

    client, draft = wizard
    failures = []
    for step in range(1, 6):
        fields = list(form_class_for(step, "online").base_fields)
        for i, junk in enumerate(GARBAGE):
            data = {name: junk for name in fields}
            url = f"/drafts/{draft.pk}/step/{step}/"
            response = client.post(url, data)
            if response.status_code >= 500 or response.status_code not in (200, 302):
                failures.append((step, "form", junk, response.status_code))
            field = fields[i % len(fields)]
            response = client.post(f"{url}?field={field}", {field: junk}, HTTP_HX_REQUEST="true")
            if response.status_code >= 500:
                failures.append((step, field, junk, response.status_code))
            if response.status_code == 200 and junk.startswith("<script>"):
                assert b"<script>alert(1)</script>" not in response.content
            Draft.objects.filter(pk=draft.pk).update(step=5)
    assert not failures, failures
    # The review step and the YAML download still answer with whatever the draft now holds.
    Draft.objects.filter(pk=draft.pk).update(step=6)
    assert client.get(f"/drafts/{draft.pk}/step/6/").status_code == 200
    assert client.post(f"/drafts/{draft.pk}/step/6/").status_code in (200, 302, 400)
    assert client.get(f"/drafts/{draft.pk}/manifests.yaml").status_code == 200


@pytest.mark.parametrize("where", ["args", "env"])
def test_a_nul_character_is_refused_or_stored_not_a_crash(dispatched, api_client, where):
    """PostgreSQL's jsonb cannot hold U+0000: the answer must be a clear 400, not a failed INSERT."""
    runtime = {"image": "ghcr.io/acme/llm-server:1.4"}
    runtime["args" if where == "args" else "env"] = ["a\u0000b"] if where == "args" else {"GREETING": "a\u0000b"}
    response = api_client.post("/api/v1/deployments/", online_spec(runtime=runtime), format="json")
    assert response.status_code in (201, 400), (response.status_code, response.content[:300])
    if response.status_code == 400:
        assert any(e["field"].startswith("runtime") for e in errors_of(response))


@pytest.mark.parametrize("where", ["request_queue", "runtime.args", "model.uri", "unknown"])
@pytest.mark.parametrize("path", ["/api/v1/deployments/preview/", "/api/v1/deployments/"])
def test_deeply_nested_values_get_a_clear_error(api_client, where, path):
    deep = "leaf"
    for _ in range(900):  # parses (Python's JSON limit is about 1000), then must not break anything else
        deep = [deep]
    spec = online_spec()
    section, _, key = where.partition(".")
    if key:
        spec[section][key] = deep
    else:
        spec[section] = deep
    response = api_client.generic("POST", path, json.dumps(spec), content_type="application/json")
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert errors_of(response)
