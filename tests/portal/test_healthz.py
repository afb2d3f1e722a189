"""/healthz reports each dependency (the default cluster and every enabled Cluster record) and answers
even when Redis or a cluster is down."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_redis_ok(client, settings):
    settings.KUBECONFIG = ""
    body = client.get("/healthz").json()
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["redis"] == {"status": "ok"}
    assert body["checks"]["cluster"]["status"] == "down"  # no kubeconfig configured
    assert body["checks"]["clusters"] == []  # no Cluster records
    assert body["status"] == "degraded"  # the default cluster serves every region and is not there


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


def _cluster(name, sandbox, region, **fields):
    from catalog.models import Region
    from clusters.models import Cluster

    cluster = Cluster.objects.create(name=name, kubeconfig_path=sandbox.kubeconfig_path, **fields)
    cluster.regions.set(Region.objects.filter(code=region))
    return cluster


@pytest.mark.timeout(30)
def test_healthz_reports_the_default_and_every_enabled_cluster(client, settings, sandbox, sandbox_b):
    settings.KUBECONFIG = sandbox.kubeconfig_path
    _cluster("las", sandbox, "LAS1")
    _cluster("ord", sandbox_b, "ORD1")
    _cluster("spare", sandbox_b, "LGA1", enabled=False)  # not reported, not counted

    response = client.get("/healthz")
    body = response.json()

    assert response.status_code == 200 and body["status"] == "ok"
    assert body["checks"]["cluster"]["status"] == "ok" and body["checks"]["cluster"]["version"].startswith("v")
    assert [(c["name"], c["status"]) for c in body["checks"]["clusters"]] == [("las", "ok"), ("ord", "ok")]
    assert all(c["version"].startswith("v") for c in body["checks"]["clusters"])


@pytest.mark.timeout(30)
def test_one_unreachable_cluster_makes_healthz_degraded(client, settings, sandbox, sandbox_b):
    settings.KUBECONFIG = ""  # no default cluster: the records serve every region
    settings.KUBE_PROBE_TIMEOUT = 0.5
    _cluster("las", sandbox, "LAS1")
    _cluster("ord", sandbox_b, "ORD1")
    sandbox_b.delay("GET", "^/version", 3)

    response = client.get("/healthz")
    body = response.json()

    assert response.status_code == 503 and body["status"] == "degraded"
    assert body["checks"]["cluster"]["status"] == "unused"
    las, ord_ = body["checks"]["clusters"]
    assert las == {"name": "las", "status": "ok", "version": las["version"]}
    assert ord_["name"] == "ord" and ord_["status"] == "down" and "timed out" in ord_["reason"].lower()


@pytest.mark.timeout(30)
def test_without_a_default_cluster_healthz_is_ok_when_the_records_answer(client, settings, sandbox):
    settings.KUBECONFIG = ""
    _cluster("las", sandbox, "LAS1")
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["checks"]["cluster"]["status"] == "unused"
    assert [c["name"] for c in body["checks"]["clusters"]] == ["las"]
