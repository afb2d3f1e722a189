"""The OpenAPI document, its browsable page, and schemathesis against the live schema."""

import os
import re

import pytest
import schemathesis
import yaml
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from teams.services import token_create
from tests.api_fixtures import stored_deployment

pytestmark = pytest.mark.django_db


def test_schema_describes_the_real_bodies(client):
    schema = client.get("/api/schema/?format=json").json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in ["/api/v1/catalog/gpus/", "/api/v1/deployments/", "/api/v1/deployments/{id}/manifests/",
                 "/api/v1/deployments/{id}/rollback/", "/api/v1/deployments/preview/", "/api/v1/teams/{slug}/spend/"]:
        assert path in paths, path
    create = paths["/api/v1/deployments/"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/DeploymentSpecRequest")
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/DeploymentDetail")
    assert create["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    spec = schema["components"]["schemas"]["DeploymentSpecRequest"]
    assert {"name", "team", "workload", "runtime", "model"} <= set(spec["required"])
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_docs_page_loads_its_scripts_from_the_package_without_inline_script(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline <script> would be blocked by the CSP"
    sources = re.findall(r'<script src="([^"]+)"', page) + re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    # Swagger UI's three assets and its init script, inside Gantry's page (its own CSS and scripts come too).
    assert {s.rsplit("/", 1)[-1] for s in sources} >= {"swagger-ui.css", "swagger-ui-bundle.js",
                                                        "swagger-ui-standalone-preset.js", "?script="}
    for src in sources:
        asset = client.get(src.replace("&amp;", "&"))
        body = b"".join(asset.streaming_content) if asset.streaming else asset.content
        assert asset.status_code == 200 and body, src
    init = client.get("/api/docs/?script=")
    assert init["Content-Type"].startswith("application/javascript") and b"/api/schema/" in init.content


@pytest.fixture
def wsgi_app():
    # Like Django's test client: a request must not close the connection holding the test transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_context(settings, team, owner, sandbox_kubeconfig):
    """An owner's token and a real deployment, so detail, patch and rollback reach the services; a cluster
    (the sandbox), so reads that ask it (logs) answer from it: a 503 for "no cluster" is not what is fuzzed."""
    settings.API_THROTTLE_RATE = "100000/min"
    _, key = token_create(user=owner, name="schemathesis")
    return {"headers": {"Authorization": f"Token {key}"}, "deployment": stored_deployment(team, created_by=owner)}


# Registered under text/yaml too: schemathesis uses the first deserializer registered for the YAML family, its own
# under text/yaml (schemathesis 4.32, core/deserialization.py and core/media_types.py).
@schemathesis.deserializer("text/yaml", "application/yaml")
def _yaml_stream(_context, response):
    """The manifests' YAML is a stream of documents, one Kubernetes object each: read as the list of them, as the
    schema describes it. schemathesis's own reader takes one document, which failed as soon as a fuzzed change
    gave the deployment a second object (a ServiceAccount for KServe's storage credentials)."""
    return list(yaml.safe_load_all(response.content))


# `make fuzz` runs the nightly size (100 per operation: well over 1,000 cases); `make test` a short run.
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@pytest.mark.slow
@pytest.mark.timeout(150 * max(1, FUZZ_EXAMPLES // 15))
def test_api_conforms_to_its_schema(wsgi_app, fuzz_context):
    """Generated requests for every operation: never a 5xx, and every response matches the schema."""
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
        def run(case):
            if "id" in (case.path_parameters or {}):
                case.path_parameters["id"] = fuzz_context["deployment"].pk
            if "slug" in (case.path_parameters or {}):
                case.path_parameters["slug"] = "nlp"
            case.call_and_validate(headers=fuzz_context["headers"], checks=CHECKS)

        try:
            run()
        except Exception as exc:
            raise AssertionError(f"{operation.label}: {exc}") from exc
