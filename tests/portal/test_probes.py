"""/livez and /readyz, the kubelet's probes: alive means the process answers, ready means it can serve
(database and Redis). A cluster that does not answer leaves the portal ready; /healthz still reports it."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db

# Runs in a fresh process, as a pod whose dependencies are gone would: the test client of that process.
PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client()
print(json.dumps({path: [r.status_code, r.json()] for path in ("/livez", "/readyz")
                  for r in [client.get(path)]}))
"""


def test_readyz_is_ok_while_no_cluster_answers_and_healthz_says_so(client, settings):
    settings.KUBECONFIG = ""  # no default cluster and no Cluster record: /healthz is degraded
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": {"status": "ok"}, "redis": {"status": "ok"}}}
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json()["checks"]["cluster"]["status"] == "down"


@pytest.mark.timeout(30)
def test_readyz_does_not_wait_for_a_slow_cluster(client, settings, sandbox, sandbox_kubeconfig):
    settings.KUBE_PROBE_TIMEOUT = 5
    sandbox.delay("GET", "^/version", 4)
    started = time.monotonic()
    assert client.get("/readyz").status_code == 200
    assert time.monotonic() - started < 1  # the kubelet's timeoutSeconds is never spent on the cluster
    assert not [r for r in sandbox.requests if r.path.startswith("/version")]


@pytest.mark.timeout(30)
def test_readyz_is_unready_while_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # a port nothing listens on
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unready" and body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["redis"]["status"] == "down" and "refused" in body["checks"]["redis"]["reason"].lower()
    assert client.get("/livez").status_code == 200


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_process_without_database_and_redis_is_alive_but_not_ready():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "DEBUG": "1", "SECURE_HTTPS": "0",
           "DATABASE_URL": "postgres://postgres@127.0.0.1:1/gantry", "REDIS_URL": "redis://127.0.0.1:1/0"}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=50)
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers["/livez"] == [200, {"status": "ok"}]
    status, body = answers["/readyz"]
    assert status == 503 and body["status"] == "unready"
    assert body["checks"]["database"]["status"] == "down" and body["checks"]["redis"]["status"] == "down"
