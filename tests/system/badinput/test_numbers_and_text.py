"""Issue 13, items 10, 13 and 14: huge and non-finite numbers, non-ASCII look-alikes, secrets in args, CR/LF names.

Every one of these answered 500 (or passed) before: each must be a 4xx naming the field, or a page that renders.
"""

import json

import pytest

from specs.schema import FIELDS, INT, NUMBER
from tests.deployments.test_wizard import STEP1, STEP2, STEP3, STEP4, start, step_url
from tests.factories import online_spec
from tests.spec_helpers import validate

NUMERIC = [f for f in FIELDS if f.type in (INT, NUMBER) and f.workload != "batch" and f.section != "batching"]
HUGE = ["1e400", "1e308", str(10**30)]


def _raw_spec(path, literal):
    """The JSON text of a valid spec with one number replaced by a literal that json.dumps cannot write."""
    spec = online_spec()
    node = spec
    *parents, last = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = "__NUMBER__"
    return json.dumps(spec).replace('"__NUMBER__"', literal)


@pytest.mark.parametrize("literal", HUGE)
@pytest.mark.parametrize("declared", NUMERIC, ids=lambda f: f.path)
def test_huge_and_infinite_numbers_are_a_400_naming_the_field(api_client, declared, literal):
    for path in ("/api/v1/deployments/preview/", "/api/v1/deployments/"):
        response = api_client.post(path, _raw_spec(declared.path, literal), content_type="application/json")
        assert response.status_code == 400, (path, response.content[:300])
        assert declared.path in [e["field"] for e in response.json()["errors"]], response.json()["errors"]


@pytest.mark.parametrize("literal", ["1e400", str(10**30)])
def test_a_patch_with_a_huge_number_is_a_400(api_client, dispatched, literal):
    created = api_client.post("/api/v1/deployments/", online_spec(), format="json")
    assert created.status_code == 201, created.content
    body = '{"scaling": {"max_replicas": %s}}' % literal
    response = api_client.patch(f"/api/v1/deployments/{created.json()['id']}/", body,
                                content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["errors"][0]["field"] == "scaling.max_replicas"


@pytest.mark.parametrize("field, value", [("model__parameters_billions", "1e308"),
                                          ("model__parameters_billions", "1e400")])
def test_a_huge_number_in_the_wizard_does_not_poison_the_draft(login, owner, field, value):
    client = login(owner)
    draft = start(client)
    assert client.post(step_url(draft, 1), STEP1).status_code == 302
    client.post(step_url(draft, 2), {**STEP2, field: value})
    for url in ["/new/", step_url(draft, 2), step_url(draft, 3)]:
        assert client.get(url, follow=True).status_code == 200, url


def test_a_huge_replica_count_in_the_wizard_shows_an_error_on_the_review(login, owner):
    client = login(owner)
    draft = start(client)
    for n, data in enumerate([STEP1, STEP2, STEP3], start=1):
        assert client.post(step_url(draft, n), data).status_code == 302
    client.post(step_url(draft, 4), {**STEP4, "scaling__max_replicas": str(10**30)})
    review = client.get(step_url(draft, 6), follow=True)
    assert review.status_code == 200
    assert client.get("/new/", follow=True).status_code == 200


@pytest.mark.usefixtures("team")
@pytest.mark.parametrize("path, value, code", [
    ("scaling.scale_to_zero_retention", "３０m", "invalid_value"),       # full-width digits
    ("runtime.image", "ghcr.io/acme/llm-server:１.4", "missing_image"),  # a full-width tag
    ("runtime.image", "ghcr.io/acme/llm-server:vé", "missing_image"),
])
def test_unicode_look_alikes_are_refused_as_kubernetes_would(path, value, code):
    spec = online_spec()
    section, key = path.split(".")
    spec[section][key] = value
    assert (path, code) in [(e.field, e.code) for e in validate(spec).errors]


@pytest.mark.usefixtures("team")
@pytest.mark.parametrize("where, value", [
    ("args", ["--port", "8080", "--api-key=sk-live1234567890abcdefABCDEF"]),
    ("args", ["hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345"]),
    ("env", {"EXTRA_FLAGS": "  hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345"}),  # leading spaces hid it
])
def test_secrets_in_args_and_behind_spaces_are_plaintext_secret(where, value):
    spec = online_spec()
    spec["runtime"][where] = value
    codes = [e.code for e in validate(spec).errors if e.field and e.field.startswith(f"runtime.{where}")]
    assert codes == ["plaintext_secret"]


@pytest.mark.parametrize("name", ["llama\r\nchat", "llama\nkind: Secret"])
def test_a_draft_name_with_a_line_break_downloads_or_is_refused_never_a_500(login, owner, name):
    client = login(owner)
    draft = start(client)
    client.post(step_url(draft, 1), {**STEP1, "name": name})
    download = client.get(f"/drafts/{draft.pk}/manifests.yaml")
    assert download.status_code in (200, 400), download.status_code
    assert b"kind: Secret" not in download.content
