"""Tests can log requests and inject failures the client really sees."""

import time

import pytest
import urllib3
from kubernetes.client.exceptions import ApiException

from .conftest import apply, knative_service

pytestmark = pytest.mark.timeout(30)


def test_request_log_records_apply_content_type_and_field_manager(sandbox, custom, team_ns):
    sandbox.clear_log()
    apply(custom, knative_service("chat"), plural="services")

    [request] = sandbox.requests
    assert request.method == "PATCH"
    assert request.path == f"/apis/serving.knative.dev/v1/namespaces/{team_ns}/services/chat"
    assert request.content_type == "application/apply-patch+yaml"
    assert request.query["fieldManager"] == "gantry" and request.query["force"] == "true"
    assert request.data["kind"] == "Service"


def test_injected_503_is_seen_by_the_client_then_the_call_succeeds(sandbox, core, team_ns):
    sandbox.fail_next("GET", r"/namespaces/tenant-nlp/pods$", status=503, times=2)

    for _ in range(2):
        with pytest.raises(ApiException) as caught:
            core.list_namespaced_pod(team_ns)
        assert caught.value.status == 503
    assert core.list_namespaced_pod(team_ns).items == []


def test_injected_429_carries_retry_after(sandbox, core, team_ns):
    sandbox.fail_next("*", r"/configmaps", status=429)
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map(team_ns, {"metadata": {"name": "cfg"}})
    assert caught.value.status == 429 and caught.value.headers["Retry-After"] == "1"
    assert core.list_namespaced_config_map(team_ns).items == []


def test_dropped_connection_is_a_transport_error(sandbox, core, team_ns):
    sandbox.drop_next("GET", r"/pods$")
    with pytest.raises(urllib3.exceptions.HTTPError):
        core.list_namespaced_pod(team_ns)
    assert core.list_namespaced_pod(team_ns).items == []


def test_slow_api_makes_the_client_time_out(sandbox, core, team_ns):
    sandbox.delay("GET", r"/pods$", 1.0, times=1)
    started = time.monotonic()
    with pytest.raises(urllib3.exceptions.HTTPError):
        core.list_namespaced_pod(team_ns, _request_timeout=0.3)
    assert time.monotonic() - started < 1.0
    assert core.list_namespaced_pod(team_ns).items == []


def test_reset_gives_the_next_test_a_fresh_cluster(sandbox, core, team_ns):
    sandbox.fail_next("GET", r"/never", times=5)
    sandbox.reset()
    assert [ns.metadata.name for ns in core.list_namespace().items] == ["default", "kube-public", "kube-system"]
    assert len(sandbox.requests) == 1
