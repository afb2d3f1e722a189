"""Secrets appear only as Secret references: never in manifests, the database, the logs or the cluster objects.

The team keeps its keys in Kubernetes Secrets. A deployment names them
(`runtime.secret_env`, `storage.credentials_secret`); Gantry renders
`secretKeyRef`/`secretRef` and never reads, stores or logs the values.
A spec carrying a literal key is refused and nothing of it is stored.
"""

import base64
import json
import logging

import kubernetes
import pytest
from django.apps import apps
from django.test import Client
from rest_framework.test import APIClient

import clusters as cluster
from deployments.models import Deployment, Draft, Revision
from deployments.services.lifecycle import SpecInvalid, deployment_create
from deployments.services.push import deployment_push
from sandbox.resources import RESOURCE_TYPES
from teams.services import token_create
from tests.factories import online_spec

pytestmark = pytest.mark.django_db

HF_VALUE = "hf_S3cr3tV4lu3ThatMustNeverLeakAnywhere0042"
S3_VALUE = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYzz"


def secret_spec(name):
    spec = online_spec(name=name)
    spec["runtime"] = {**spec["runtime"], "secret_env": {"HF_TOKEN": "hf-token/token"}, "env": {"LOG_LEVEL": "debug"}}
    spec["storage"] = {"credentials_secret": "s3-creds"}
    return spec


def _needles():
    values = [HF_VALUE, S3_VALUE]
    return values + [base64.b64encode(v.encode()).decode() for v in values]


def _team_secrets_create(sandbox):
    """The team's own Secrets, created by the team (not by Gantry) before deploying."""
    cluster.namespace_ensure("tenant-nlp", {cluster.TEAM_LABEL: "nlp"})
    core = kubernetes.client.CoreV1Api(sandbox.api_client())
    for name, data in [("hf-token", {"token": HF_VALUE}),
                       ("s3-creds", {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": S3_VALUE})]:
        core.create_namespaced_secret("tenant-nlp", {"metadata": {"name": name}, "stringData": data,
                                                     "data": {k: base64.b64encode(v.encode()).decode()
                                                              for k, v in data.items()}})
    sandbox.clear_log()


def _database_dump():
    """Every row of every model, as text."""
    rows = []
    for model in apps.get_models():
        rows.extend(json.dumps(row, default=str) for row in model.objects.all().values())
    return "\n".join(rows)


def _cluster_dump(sandbox):
    """Every object stored in the sandbox except the team's own Secrets."""
    objects = []
    for rt in RESOURCE_TYPES:
        if rt.kind != "Secret":
            objects.extend(sandbox.store.objects(rt))
    return json.dumps(objects, default=str)


def _assert_references_only(manifests):
    container = manifests[0]["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token"}}} in container["env"]
    assert container["envFrom"] == [{"secretRef": {"name": "s3-creds"}}]
    assert not [e for e in container["env"] if e["name"] == "HF_TOKEN" and "value" in e]


def _assert_nowhere(sandbox, caplog, manifests):
    texts = {"manifests": json.dumps(manifests), "database": _database_dump(), "logs": caplog.text + "\n".join(
        str(r.args) for r in caplog.records), "cluster objects": _cluster_dump(sandbox),
        "requests Gantry sent": json.dumps([(r.method, r.path, r.body) for r in sandbox.requests], default=str)}
    for where, text in texts.items():
        for needle in _needles():
            assert needle not in text, f"a secret value leaked into the {where}"
    # Gantry never even reads the team's Secrets.
    assert not [r for r in sandbox.requests if "/secrets" in r.path]


@pytest.mark.timeout(60)
def test_a_deployment_using_secrets_through_the_service(sandbox, sandbox_kubeconfig, team, owner, caplog):
    caplog.set_level(logging.DEBUG)
    _team_secrets_create(sandbox)
    deployment = deployment_create(user=owner, spec=secret_spec("svc-secrets"))
    assert deployment_push(deployment_id=deployment.pk, revision=1)
    manifests = Revision.objects.get(deployment=deployment, number=1).manifests
    _assert_references_only(manifests)
    applied = sandbox.object("services.serving.knative.dev", "tenant-nlp", "svc-secrets")
    _assert_references_only([applied])
    _assert_nowhere(sandbox, caplog, manifests)


@pytest.mark.timeout(60)
def test_a_deployment_using_secrets_through_the_api(sandbox, sandbox_kubeconfig, team, owner, caplog):
    caplog.set_level(logging.DEBUG)
    _team_secrets_create(sandbox)
    _, key = token_create(user=owner, name="ci")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.post("/api/v1/deployments/", secret_spec("api-secrets"), format="json")
    assert response.status_code == 201, response.content
    assert deployment_push(deployment_id=response.json()["id"], revision=1)
    manifests = api.get(f"/api/v1/deployments/{response.json()['id']}/manifests/").json()["manifests"]
    _assert_references_only(manifests)
    yaml_text = api.get(f"/api/v1/deployments/{response.json()['id']}/manifests/?format=yaml").content.decode()
    assert "secretKeyRef" in yaml_text
    _assert_nowhere(sandbox, caplog, manifests)


LITERALS = {
    "hugging face token": "hf_abcdefghijklmnopqrstuvwxyz123456",
    "aws access key id": "AKIAIOSFODNN7EXAMPLE",
    "private key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----",
    "github token": "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "random key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}
PLACES = {
    "runtime.env.HF_TOKEN": lambda s, v: s["runtime"].update(env={"HF_TOKEN": v}),
    "runtime.env.EXTRA": lambda s, v: s["runtime"].update(env={"EXTRA": v}),
    "runtime.secret_env.HF_TOKEN": lambda s, v: s["runtime"].update(secret_env={"HF_TOKEN": v}),
    "storage.credentials_secret": lambda s, v: s["storage"].update(credentials_secret=v),
}


def _stored_anywhere(value):
    rows = [json.dumps(r, default=str) for m in (Deployment, Revision, Draft) for r in m.objects.values()]
    return any(value in row or json.dumps(value)[1:-1] in row for row in rows)


@pytest.mark.parametrize("kind", LITERALS)
def test_a_literal_secret_is_refused_and_nothing_is_stored(team, owner, kind):
    value = LITERALS[kind]
    _, key = token_create(user=owner, name="ci")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    for field, put in PLACES.items():
        spec = online_spec(name="leaky")
        put(spec, value)
        with pytest.raises(SpecInvalid) as refused:
            deployment_create(user=owner, spec=spec)
        assert [e["field"] for e in refused.value.errors if e["code"] == "plaintext_secret"] == [field]
        for path in ("/api/v1/deployments/preview/", "/api/v1/deployments/"):
            response = api.post(path, spec, format="json")
            assert response.status_code == 400
            errors = response.json()["errors"]
            hit = [e for e in errors if e["code"] == "plaintext_secret"]
            assert hit and hit[0]["field"] == field and "Secret" in hit[0]["message"]
            assert value not in json.dumps(errors)  # the error does not echo the key back either
    assert not Deployment.objects.exists() and not Revision.objects.exists()
    assert not _stored_anywhere(value)


def test_the_wizard_does_not_keep_a_literal_key_typed_into_a_secret_field(team, owner):
    client = Client()
    client.force_login(owner)
    draft = Draft.objects.create(user=owner, data=online_spec(name="wiz"), step=5)
    for value in LITERALS.values():
        response = client.post(f"/drafts/{draft.pk}/step/2/", {
            "model__uri": "s3://models/llama-3-8b/model.tensors", "model__parameters_billions": "8",
            "model__precision": "bf16", "model__format": "tensorizer", "storage__tier": "",
            "storage__credentials_secret": value})
        assert response.status_code == 200  # the step is shown again with the error
        assert "Secret" in response.content.decode()
        assert not _stored_anywhere(value), "the draft kept the literal key"
