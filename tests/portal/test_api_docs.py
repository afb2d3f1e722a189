"""The API docs page (/api/docs/) is a Gantry page: its header, navigation and a way back; summaries read as plain
text; every request body has an example to start from (tests/deployments/test_api_examples.py posts them)."""

import re

import pytest

pytestmark = pytest.mark.django_db


def _operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_the_docs_page_has_gantrys_header_navigation_and_a_way_back(login, staff):
    page = login(staff).get("/api/docs/").content.decode()
    assert '<header class="topbar">' in page and 'aria-label="Main"' in page
    for link in (r'href="/"\s*>Dashboard', r'href="/tokens/"\s*>API tokens', r'href="/admin/"\s*>Admin',
                 r'<a href="/">← Back to Gantry</a>'):
        assert re.search(link, page), link
    assert 'id="swagger-ui"' in page and 'href="/api/schema/"' in page
    assert 'rel="icon" href="/static/favicon.svg"' in page


def test_summaries_have_no_backticks_and_descriptions_keep_their_markdown(client):
    schema = client.get("/api/schema/?format=json").json()
    summaries = [op["summary"] for _, _, op in _operations(schema) if "summary" in op]
    assert len(summaries) >= 15 and not [s for s in summaries if "`" in s]
    teardown = schema["paths"]["/api/v1/deployments/{id}/"]["delete"]
    assert teardown["summary"] == "Tear down: 202, status goes to deleting, then deleted"
    # Descriptions are CommonMark, which the viewer renders: their `code` stays.
    assert "`pending_approval`" in schema["paths"]["/api/v1/deployments/"]["post"]["description"]


def test_every_json_request_body_comes_with_examples(client):
    schema = client.get("/api/schema/?format=json").json()
    bodies = [(path, method, op["requestBody"]["content"]["application/json"])
              for path, method, op in _operations(schema) if "requestBody" in op]
    assert len(bodies) >= 5
    for path, method, body in bodies:
        assert body.get("examples"), (method, path)
        for example in body["examples"].values():
            assert example["summary"] and "`" not in example["summary"] and isinstance(example["value"], dict)
