"""The sandbox serves pods/log as the API server does: tailLines, sinceSeconds, previous, follow, kubectl logs."""

import datetime
import json
import subprocess
import time

import kubernetes
import pytest

from tests.cluster_helpers import iso_ago, pod_running

pytestmark = pytest.mark.timeout(30)

IMAGES = {
    "vllm/vllm-openai:v0.11.0": "vLLM API server version v0.11.0",
    "ghcr.io/huggingface/text-generation-inference:3.3.5": "text_generation_router::server: Connected",
    "nvcr.io/nvidia/tritonserver:25.10-py3": "Started HTTPService at 0.0.0.0:8080",
    "kserve/sklearnserver:latest": "Uvicorn running on http://0.0.0.0:8080",
}


def _lines(text):
    return text.splitlines()


def test_a_vllm_pod_logs_start_up_then_one_request_line_a_second(core, team_ns):
    pod_running(core, team_ns, "chat-1")
    lines = _lines(core.read_namespaced_pod_log("chat-1", team_ns))
    assert "vLLM API server version v0.11.0" in lines[0]
    assert "INFO:     Application startup complete." in lines
    requests = [line for line in lines if "POST /v1/chat/completions" in line]
    assert 25 <= len(requests) <= 29


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_each_runtime_prints_its_own_start_up_lines(core, team_ns, image):
    pod_running(core, team_ns, "svc-1", image=image)
    assert IMAGES[image] in core.read_namespaced_pod_log("svc-1", team_ns)


def test_a_batch_shard_logs_its_progress(core, team_ns):
    pod_running(core, team_ns, "nightly-shard-1", container="main", image="vllm/vllm-openai:v0.11.0")
    text = core.read_namespaced_pod_log("nightly-shard-1", team_ns)
    assert "batch: shard 0/1 starting" in text and "batch: processed 50 records" in text


def test_tail_lines_and_since_seconds_cut_the_log(core, team_ns):
    pod_running(core, team_ns, "chat-1")
    full = _lines(core.read_namespaced_pod_log("chat-1", team_ns))
    tail = _lines(core.read_namespaced_pod_log("chat-1", team_ns, tail_lines=3))
    assert len(tail) == 3 and tail[-1] in full[-2:]
    assert core.read_namespaced_pod_log("chat-1", team_ns, tail_lines=0) == ""
    recent = _lines(core.read_namespaced_pod_log("chat-1", team_ns, since_seconds=5))
    assert 4 <= len(recent) <= 6 and all("POST" in line for line in recent)


def test_timestamps_prefix_each_line_with_rfc3339(core, team_ns):
    pod_running(core, team_ns, "chat-1")
    [line] = _lines(core.read_namespaced_pod_log("chat-1", team_ns, tail_lines=1, timestamps=True))
    stamp = line.split(" ", 1)[0]
    assert stamp.endswith("Z") and datetime.datetime.fromisoformat(stamp[:26] + "+00:00")


def test_a_pod_with_two_containers_needs_a_container(core, team_ns):
    pod_running(core, team_ns, "chat-1", extra=("queue-proxy",))
    with pytest.raises(kubernetes.client.ApiException) as err:
        core.read_namespaced_pod_log("chat-1", team_ns)
    assert err.value.status == 400 and "choose one of: [model queue-proxy]" in err.value.body
    assert "Application startup complete." in core.read_namespaced_pod_log("chat-1", team_ns, container="model")


def test_previous_is_the_crashed_container_or_a_400(core, team_ns):
    pod_running(core, team_ns, "fresh")
    with pytest.raises(kubernetes.client.ApiException) as err:
        core.read_namespaced_pod_log("fresh", team_ns, previous=True)
    assert err.value.status == 400
    assert json.loads(err.value.body)["message"] == 'previous terminated container "model" in pod "fresh" not found'
    crashed = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": iso_ago(120), "finishedAt": iso_ago(100)}}
    pod_running(core, team_ns, "restarted", last_state=crashed, started_ago=5)
    previous = _lines(core.read_namespaced_pod_log("restarted", team_ns, previous=True))
    assert "exit code 1" in previous[-1]
    assert len([line for line in previous if "POST" in line]) in range(16, 19)  # 20 s up, requests after 3 s
    assert "exit code" not in core.read_namespaced_pod_log("restarted", team_ns)


def test_follow_streams_new_lines_as_they_are_written(core, team_ns):
    pod_running(core, team_ns, "chat-1", started_ago=10)
    response = core.read_namespaced_pod_log("chat-1", team_ns, follow=True, tail_lines=1,
                                            _preload_content=False, _request_timeout=(5, 5))
    chunks, deadline = [], time.monotonic() + 2.5
    try:
        for chunk in response.stream(4096):
            chunks.append(chunk)
            if time.monotonic() > deadline:
                break
    finally:
        response.release_conn()
    lines = _lines(b"".join(chunks).decode())
    assert len(chunks) >= 2 and len(lines) >= 3
    assert all("POST /v1/chat/completions" in line for line in lines)


def test_kubectl_logs_works_on_the_sandbox(sandbox, core, team_ns):
    pod_running(core, team_ns, "chat-1")
    out = subprocess.run(["kubectl", "--kubeconfig", sandbox.kubeconfig_path, "logs", "-n", team_ns, "chat-1",
                          "--tail=2"], capture_output=True, text=True, timeout=20, check=True)
    assert len(out.stdout.splitlines()) == 2 and "POST /v1/chat/completions" in out.stdout
