"""Pod logs (issue 16): GET /api/v1/deployments/{id}/logs/ and the Logs panel, over real HTTP to the sandbox."""

import time

import kubernetes
import pytest
import yaml

from clusters import logs as cluster_logs
from tests.cluster_helpers import iso_ago, pod_running

pytestmark = [pytest.mark.timeout(30), pytest.mark.django_db]
# `deployment` (tests/api_fixtures.py) is team nlp's stored llama-chat, a Knative Service.

LABEL = "gantry.io/deployment"


@pytest.fixture
def core(sandbox, sandbox_kubeconfig):
    client = sandbox.api_client()
    core = kubernetes.client.CoreV1Api(client)
    core.create_namespace({"metadata": {"name": "tenant-nlp"}})
    yield core
    client.close()


@pytest.fixture
def pods(sandbox, core):
    """Two pods of llama-chat (the newer one not ready yet) and one of llama-chat-v2."""
    crashed = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": iso_ago(90), "finishedAt": iso_ago(60)}}
    pod_running(core, "tenant-nlp", "llama-chat-a", labels={LABEL: "llama-chat"}, extra=("queue-proxy",),
                last_state=crashed)
    sandbox.backdate("pods", "tenant-nlp", "llama-chat-a", 60)  # the older of the two
    pod_running(core, "tenant-nlp", "llama-chat-b", labels={LABEL: "llama-chat"}, ready=False)
    pod_running(core, "tenant-nlp", "llama-chat-v2-a", labels={LABEL: "llama-chat-v2"})
    return core


def _url(d, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/api/v1/deployments/{d.pk}/logs/" + (f"?{query}" if query else "")


def _errors(response):
    return [(e["code"], e["field"]) for e in response.json()["errors"]]


def test_the_log_is_text_from_the_ready_pods_model_container(api, owner, deployment, pods):
    response = api(owner).get(_url(deployment))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert (response["X-Pod"], response["X-Container"]) == ("llama-chat-a", "model")
    text = response.content.decode()
    assert "vLLM API server version" in text and "INFO:     Application startup complete." in text


def test_the_default_is_the_pod_ready_longest_which_a_scale_down_keeps(api, owner, deployment, pods):
    # A newer ready pod (the autoscaler scaled up): kubectl logs reads the pod ready the longest, and a
    # scale-down removes the newest first, so the name the default gave still reads a moment later.
    pod_running(pods, "tenant-nlp", "llama-chat-c", labels={LABEL: "llama-chat"}, ready_ago=5)
    client = api(owner)
    assert client.get(_url(deployment, tail=0))["X-Pod"] == "llama-chat-a"
    pods.delete_namespaced_pod("llama-chat-c", "tenant-nlp")
    assert client.get(_url(deployment, pod="llama-chat-a", container="model", tail=1)).status_code == 200


def test_tail_since_and_previous_pick_the_lines(api, viewer, deployment, pods):
    client = api(viewer)
    lines = client.get(_url(deployment, tail=2)).content.decode().splitlines()
    assert len(lines) == 2 and all("POST /v1/chat/completions" in line for line in lines)
    recent = client.get(_url(deployment, since_seconds=3)).content.decode().splitlines()
    assert 2 <= len(recent) <= 4
    previous = client.get(_url(deployment, previous="true")).content.decode()
    assert "exit code 1" in previous.splitlines()[-1]


def test_a_pod_and_container_can_be_named(api, deployer, deployment, pods):
    response = api(deployer).get(_url(deployment, pod="llama-chat-a", container="queue-proxy", tail=1))
    assert response.status_code == 200 and response["X-Container"] == "queue-proxy"


def test_outsiders_get_404_and_anonymous_401(api, outsider, deployment, pods):
    assert api(outsider).get(_url(deployment)).status_code == 404
    assert api(None).get(_url(deployment)).status_code == 401


def test_a_pod_of_another_deployment_is_404_naming_it(api, owner, deployment, pods):
    for name in ("llama-chat-v2-a", "no-such-pod"):
        response = api(owner).get(_url(deployment, pod=name))
        assert response.status_code == 404
        [error] = response.json()["errors"]
        assert error["code"] == "not_found" and f"Pod {name} is not one of this deployment's pods" in error["message"]


@pytest.mark.parametrize(("params", "field"), [
    ({"tail": "-1"}, "tail"), ({"tail": "5001"}, "tail"), ({"tail": "ten"}, "tail"),
    ({"since_seconds": "0"}, "since_seconds"), ({"previous": "maybe"}, "previous"),
    ({"previous": "1", "follow": "1"}, "follow"), ({"container": "sidecar"}, "container"),
])
def test_bad_parameters_are_400_in_the_error_shape(api, owner, deployment, pods, params, field):
    response = api(owner).get(_url(deployment, **params), HTTP_ACCEPT="text/plain")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert ("invalid", field) in _errors(response)


def test_what_the_cluster_refuses_is_400_with_its_words(api, owner, deployment, pods):
    response = api(owner).get(_url(deployment, pod="llama-chat-b", previous="1"))
    assert response.status_code == 400
    assert 'previous terminated container "model" in pod "llama-chat-b" not found' in response.json()["errors"][0][
        "message"]


def test_follow_streams_chunks_and_ends_within_its_bound(api, viewer, deployment, pods, monkeypatch):
    monkeypatch.setattr(cluster_logs, "FOLLOW_SECONDS", 2.5)
    started = time.monotonic()
    response = api(viewer).get(_url(deployment, follow=1, tail=1))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    chunks = [chunk.decode() for chunk in response.streaming_content]
    assert len(chunks) >= 2
    assert len("".join(chunks).splitlines()) >= 3
    assert time.monotonic() - started < 5


def test_follow_of_a_missing_pod_is_404_before_any_streaming(api, owner, deployment, pods):
    assert api(owner).get(_url(deployment, follow=1, pod="gone")).status_code == 404


def test_no_pods_is_404_and_no_cluster_is_503(api, owner, deployment, core, settings):
    response = api(owner).get(_url(deployment))
    assert response.status_code == 404 and "no pods right now" in response.json()["errors"][0]["message"]
    settings.KUBECONFIG = ""
    response = api(owner).get(_url(deployment))
    assert response.status_code == 503 and _errors(response) == [("cluster_unavailable", None)]


def test_the_openapi_document_describes_a_text_answer(api, owner):
    schema = yaml.safe_load(api(owner).get("/api/schema/").content)
    operation = schema["paths"]["/api/v1/deployments/{id}/logs/"]["get"]
    assert "text/plain" in operation["responses"]["200"]["content"]
    assert {p["name"] for p in operation["parameters"]} >= {"pod", "container", "tail", "since_seconds",
                                                            "previous", "follow"}


# --- the Logs panel on the deployment page ---

def _panel(client, d, query=""):
    return client.get(f"/deployments/{d.pk}/logs/{query}", HTTP_HX_REQUEST="true")


def test_the_page_loads_the_panel_lazily(login, owner, deployment):
    html = login(owner).get(f"/deployments/{deployment.pk}/").content.decode()
    assert 'id="logs"' in html and f'hx-get="/deployments/{deployment.pk}/logs/"' in html


def test_the_panel_shows_the_default_pod_and_lets_one_pick(login, viewer, deployment, pods):
    html = _panel(login(viewer), deployment).content.decode()
    assert '<option value="llama-chat-a" selected>' in html
    assert "llama-chat-b (running, not ready)" in html and "llama-chat-v2-a" not in html
    assert '<option value="model" selected>model (1 restart)</option>' in html
    assert "INFO:     Application startup complete." in html or "POST /v1/chat/completions" in html
    assert "data-follow-url" not in html
    picked = _panel(login(viewer), deployment, "?pod=llama-chat-a&container=queue-proxy&tail=5").content.decode()
    assert '<option value="queue-proxy" selected>' in picked and 'value="5"' in picked


def test_follow_hands_the_stream_to_the_script(login, owner, deployment, pods):
    html = _panel(login(owner), deployment, "?follow=1").content.decode()
    assert (f'data-follow-url="/api/v1/deployments/{deployment.pk}/logs/?pod=llama-chat-a&amp;container=model'
            f'&amp;follow=1&amp;tail=0"') in html


def test_a_replaced_pod_falls_back_to_the_default_with_a_word(login, owner, deployment, pods):
    html = _panel(login(owner), deployment, "?pod=llama-chat-old&container=model").content.decode()
    assert "Pod llama-chat-old is not one of this deployment&#x27;s pods" in html
    assert '<option value="llama-chat-a" selected>' in html


def test_without_htmx_the_panel_url_is_the_log_as_text(login, owner, outsider, deployment, pods):
    response = login(owner).get(f"/deployments/{deployment.pk}/logs/?tail=3")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert len(response.content.decode().splitlines()) == 3
    assert login(outsider).get(f"/deployments/{deployment.pk}/logs/").status_code == 404


def test_the_panel_says_when_the_cluster_cannot_be_read(login, owner, deployment, settings):
    settings.KUBECONFIG = ""
    html = _panel(login(owner), deployment).content.decode()
    assert "The log is not available right now: no cluster configured" in html


def test_a_batch_run_shows_each_shards_log(sandbox, sandbox_kubeconfig, api, deployer):
    from deployments.services.sync import status_sync
    from tests.cluster_helpers import deployment_pushed

    d = deployment_pushed(deployer, name="nightly", batch=True)
    sandbox.simulator.tick()
    sandbox.simulator.advance(30)
    sandbox.simulator.tick()
    status_sync()
    shards = sorted(p["name"] for p in cluster_logs.deployment_pods_list("tenant-nlp", "nightly"))
    assert len(shards) == 2 and all(name.startswith("nightly-run-1-") for name in shards)
    for shard in shards:
        response = api(deployer).get(_url(d, pod=shard, container="main", tail=20))
        assert response.status_code == 200, response.content
        assert response["X-Pod"] == shard and response.content.strip()
