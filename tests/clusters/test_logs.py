"""clusters.logs over real HTTP against the sandbox: bounded reads, a bounded follow, a deployment's pods."""

import time

import kubernetes
import pytest

import clusters as cluster
from clusters import logs
from tests.cluster_helpers import iso_ago, pod_running

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def core(sandbox, sandbox_kubeconfig):
    client = sandbox.api_client()
    core = kubernetes.client.CoreV1Api(client)
    core.create_namespace({"metadata": {"name": "tenant-nlp"}})
    yield core
    client.close()


def test_pod_logs_reads_the_last_lines_through_the_log_subresource(sandbox, core):
    pod_running(core, "tenant-nlp", "chat-a", extra=("queue-proxy",))
    sandbox.clear_log()
    text = cluster.pod_logs("tenant-nlp", "chat-a", container="model", tail=3)
    assert len(text.splitlines()) == 3 and "POST /v1/chat/completions" in text
    [req] = [r for r in sandbox.requests if r.path.endswith("/log")]
    assert req.path == "/api/v1/namespaces/tenant-nlp/pods/chat-a/log"
    assert dict(req.query) == {"tailLines": "3", "container": "model", "limitBytes": "1048576"}


def test_without_tail_at_most_max_lines_are_asked_for(sandbox, core, monkeypatch):
    pod_running(core, "tenant-nlp", "chat-a", started_ago=60)
    monkeypatch.setattr(logs, "MAX_LINES", 10)
    assert len(cluster.pod_logs("tenant-nlp", "chat-a").splitlines()) == 10
    assert len(cluster.pod_logs("tenant-nlp", "chat-a", tail=50).splitlines()) == 10


def test_since_seconds_and_previous_reach_the_server(core):
    crashed = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": iso_ago(90), "finishedAt": iso_ago(60)}}
    pod_running(core, "tenant-nlp", "chat-a", last_state=crashed, started_ago=40)
    recent = cluster.pod_logs("tenant-nlp", "chat-a", since_seconds=3).splitlines()
    assert 2 <= len(recent) <= 4
    assert "exit code 1" in cluster.pod_logs("tenant-nlp", "chat-a", previous=True)


def test_errors_leave_as_cluster_errors_with_the_servers_message(core):
    pod_running(core, "tenant-nlp", "chat-a", extra=("queue-proxy",))
    with pytest.raises(cluster.NotFound):
        cluster.pod_logs("tenant-nlp", "nope")
    with pytest.raises(cluster.ClusterError) as err:
        cluster.pod_logs("tenant-nlp", "chat-a")
    assert err.value.permanent and "choose one of: [model queue-proxy]" in err.value.message
    with pytest.raises(cluster.ClusterError) as err:
        cluster.pod_logs("tenant-nlp", "chat-a", container="model", previous=True)
    assert 'previous terminated container "model"' in err.value.message


def test_follow_yields_chunks_as_lines_come_and_ends_in_time(core):
    pod_running(core, "tenant-nlp", "chat-a", started_ago=10)
    started = time.monotonic()
    chunks = list(cluster.pod_logs_follow("tenant-nlp", "chat-a", tail=1, seconds=2.5))
    elapsed = time.monotonic() - started
    assert len(chunks) >= 2
    assert 2.0 <= elapsed < 4.0
    assert len("".join(chunks).splitlines()) >= 3


def test_a_quiet_follow_still_ends_in_time(core):
    pod_running(core, "tenant-nlp", "done", started_ago=0)
    started = time.monotonic()
    # Starting now: the start-up lines come at 0-2 s, requests from 3 s; 1.5 s must not wait for more.
    list(cluster.pod_logs_follow("tenant-nlp", "done", seconds=1.5))
    assert time.monotonic() - started < 3.0


def test_follow_of_a_missing_pod_raises_before_streaming(core):
    with pytest.raises(cluster.NotFound):
        cluster.pod_logs_follow("tenant-nlp", "nope")


def test_deployment_pods_lists_its_own_pods_newest_first_with_containers(sandbox, core):
    pod_running(core, "tenant-nlp", "chat-old", labels={"gantry.io/deployment": "chat"}, extra=("queue-proxy",))
    sandbox.backdate("pods", "tenant-nlp", "chat-old", 60)
    pod_running(core, "tenant-nlp", "chat-new", labels={"gantry.io/deployment": "chat"}, ready=False)
    pod_running(core, "tenant-nlp", "chat-v2-a", labels={"gantry.io/deployment": "chat-v2"})
    pods = cluster.deployment_pods_list("tenant-nlp", "chat")
    assert [p["name"] for p in pods] == ["chat-new", "chat-old"]
    assert [p["ready"] for p in pods] == [False, True]
    assert [c["name"] for c in pods[1]["containers"]] == ["model", "queue-proxy"]
    assert pods[1]["containers"][0] == {"name": "model", "ready": True, "restarts": 0}
