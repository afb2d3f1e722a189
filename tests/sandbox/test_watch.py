"""Watch as an API server serves it: resume from a resourceVersion, bookmarks, 410 after compaction,
a dropped connection. Driven over HTTP with the official client and raw requests."""

import json

import kubernetes
import pytest
import requests
from kubernetes.client.exceptions import ApiException

from sandbox.harness import SandboxCluster


def _config_map(name, **labels):
    return {"metadata": {"name": name, "labels": labels}}


def _events(core, namespace, **kwargs):
    watch = kubernetes.watch.Watch()
    return [(e["type"], e["object"].metadata.name)
            for e in watch.stream(core.list_namespaced_config_map, namespace, timeout_seconds=1, **kwargs)]


def test_a_watch_from_a_lists_resource_version_sends_only_later_changes(core, team_ns):
    core.create_namespaced_config_map(team_ns, _config_map("before"))
    listed = core.list_namespaced_config_map(team_ns)
    core.create_namespaced_config_map(team_ns, _config_map("after"))
    core.delete_namespaced_config_map("before", team_ns)

    events = _events(core, team_ns, resource_version=listed.metadata.resource_version)

    assert events == [("ADDED", "after"), ("DELETED", "before")]


def test_a_watch_from_before_compaction_gets_410_expired_as_an_error_event(sandbox, core, team_ns):
    listed = core.list_namespaced_config_map(team_ns)
    core.create_namespaced_config_map(team_ns, _config_map("later"))
    sandbox.compact()

    # The raw stream: 200 and one ERROR event holding the Status, as the API server sends it.
    response = requests.get(f"{sandbox.url}/api/v1/namespaces/{team_ns}/configmaps", timeout=5,
                            params={"watch": "1", "resourceVersion": listed.metadata.resource_version})
    assert response.status_code == 200
    event = json.loads(response.text.splitlines()[0])
    assert event["type"] == "ERROR"
    assert (event["object"]["code"], event["object"]["reason"]) == (410, "Expired")

    # The official client turns it into ApiException(410): the caller lists again.
    watch = kubernetes.watch.Watch()
    with pytest.raises(ApiException) as caught:
        list(watch.stream(core.list_namespaced_config_map, team_ns, timeout_seconds=1,
                          resource_version=listed.metadata.resource_version, allow_watch_bookmarks=False))
    assert caught.value.status == 410

    # A watch from the current resourceVersion still works after compaction.
    now = core.list_namespaced_config_map(team_ns).metadata.resource_version
    core.create_namespaced_config_map(team_ns, _config_map("newest"))
    assert _events(core, team_ns, resource_version=now) == [("ADDED", "newest")]


def test_bookmarks_carry_the_current_resource_version_and_never_overtake_an_event():
    with SandboxCluster(bookmark_seconds=0.2) as cluster:
        base = f"{cluster.url}/api/v1/namespaces/default/configmaps"
        start = requests.get(base, timeout=5).json()["metadata"]["resourceVersion"]
        requests.post(base, json=_config_map("one"), timeout=5).raise_for_status()
        with requests.get(base, stream=True, timeout=5, params={
                "watch": "1", "resourceVersion": start, "allowWatchBookmarks": "true", "timeoutSeconds": "1"}) as r:
            events = [json.loads(line) for line in r.iter_lines() if line]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "ADDED" and "BOOKMARK" in kinds
    bookmark = next(e for e in events if e["type"] == "BOOKMARK")
    assert bookmark["object"]["kind"] == "ConfigMap" and bookmark["object"]["apiVersion"] == "v1"
    assert int(bookmark["object"]["metadata"]["resourceVersion"]) >= int(
        events[0]["object"]["metadata"]["resourceVersion"])


def test_without_allow_watch_bookmarks_no_bookmark_is_sent():
    with SandboxCluster(bookmark_seconds=0.2) as cluster:
        with requests.get(f"{cluster.url}/api/v1/namespaces/default/configmaps", stream=True, timeout=5,
                          params={"watch": "1", "timeoutSeconds": "1"}) as r:
            kinds = [json.loads(line)["type"] for line in r.iter_lines() if line]
    assert "BOOKMARK" not in kinds


def test_a_dropped_watch_connection_breaks_the_stream_without_an_end(sandbox, core, team_ns):
    core.create_namespaced_config_map(team_ns, _config_map("one"))
    with requests.get(f"{sandbox.url}/api/v1/namespaces/{team_ns}/configmaps", stream=True, timeout=5,
                      params={"watch": "1", "timeoutSeconds": "30"}) as r:
        lines = r.iter_lines()
        assert json.loads(next(lines))["type"] == "ADDED"
        sandbox.watches_drop()
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            list(lines)
