"""One error shape everywhere, including 401, 404, 405, 415 and 429."""

import pytest
from rest_framework.test import APIClient

from teams.models import ApiToken
from tests.api_fixtures import assert_error_shape
from tests.cluster_helpers import wait_for

pytestmark = pytest.mark.django_db


def test_unknown_and_malformed_tokens_get_401(client):
    response = client.get("/api/v1/catalog/gpus/", HTTP_AUTHORIZATION="Token gnt_not-a-real-key")
    assert_error_shape(response, 401, "authentication_failed")
    assert_error_shape(client.get("/api/v1/catalog/gpus/", HTTP_AUTHORIZATION="Token"), 401)


def test_not_found_method_not_allowed_and_media_type(api, viewer, deployer):
    assert_error_shape(api(viewer).get("/api/v1/deployments/999999/"), 404, "not_found")
    assert_error_shape(api(viewer).put("/api/v1/deployments/1/", {}, format="json"), 405, "method_not_allowed")
    assert_error_shape(api(deployer).post("/api/v1/deployments/", "name=x",
                                          content_type="application/x-www-form-urlencoded"), 415)
    assert_error_shape(api(deployer).post("/api/v1/deployments/", "{not json",
                                          content_type="application/json"), 400, "parse_error")
    assert_error_shape(api(viewer).get("/api/v1/no-such-thing/"), 404, "not_found")


def test_throttle_per_token_with_retry_after(api, viewer, settings):
    settings.API_THROTTLE_RATE = "3/min"
    client, other = api(viewer), api(viewer)
    statuses = [client.get("/api/v1/catalog/regions/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/catalog/regions/")
    assert_error_shape(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert other.get("/api/v1/catalog/regions/").status_code == 200  # each token has its own budget
    assert ApiToken.objects.filter(user=viewer).count() == 2


def test_session_auth_works_for_the_browser_with_csrf(viewer, team):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(viewer)
    assert client.get("/api/v1/deployments/").status_code == 200
    response = client.post("/api/v1/deployments/", {}, format="json")
    assert_error_shape(response, 403, "permission_denied")
    assert "CSRF" in response.json()["errors"][0]["message"]


def test_the_throttle_window_slides(api, viewer, settings):
    settings.API_THROTTLE_RATE = "2/s"
    client = api(viewer)
    assert [client.get("/api/v1/catalog/regions/").status_code for _ in range(3)] == [200, 200, 429]
    wait_for(lambda: client.get("/api/v1/catalog/regions/").status_code == 200, timeout=5, interval=0.1,
             message="a request allowed again once the first two left the one-second window")
