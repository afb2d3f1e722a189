"""/healthz reports each dependency and answers even when Redis is down."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_redis_ok(client, settings):
    settings.KUBECONFIG = ""
    body = client.get("/healthz").json()
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["redis"] == {"status": "ok"}
    assert body["checks"]["cluster"]["status"] == "down"  # no kubeconfig configured


@pytest.mark.timeout(30)
def test_healthz_answers_with_redis_down(client, settings):
    # A port nothing listens on stands for a stopped Redis; see tests of faults for a real stop.
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "degraded"
    assert body["checks"]["redis"]["status"] == "down"
    assert "refused" in body["checks"]["redis"]["reason"].lower()
    assert body["checks"]["database"]["status"] == "ok"
