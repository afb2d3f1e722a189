"""What the counts read of each pod (clusters/observe.py, PodFacts): the list sync reads them off the pods it
lists, the watcher's mirror keeps them in place of the pods; both must count the same."""

import logging

import orjson
import pytest

from clusters.labels import DEPLOYMENT_LABEL
from clusters.observe import PodFacts, observations_build, pod_facts, pod_list_decode
from clusters.watch import Mirror


def _pod(name, deployment="chat", *, phase="Running", gpus=1, ready="True", **extra):
    pod = {"metadata": {"name": name, "namespace": "tenant-nlp", "resourceVersion": "7",
                        "labels": {DEPLOYMENT_LABEL: deployment} if deployment else {}},
           "spec": {"containers": [{"name": "server", "resources": {"limits": {"nvidia.com/gpu": str(gpus)}}},
                                   {"name": "sidecar", "resources": {}}]},
           "status": {"phase": phase, "conditions": [{"type": "PodScheduled", "status": "True"},
                                                     {"type": "Ready", "status": ready}]}}
    pod.update(extra)
    return pod


PODS = [
    _pod("a", gpus=2),                                 # running and ready: counted, its 2 GPUs held
    _pod("b", ready="False"),                          # running, not ready yet: holds its GPU
    _pod("c", phase="Pending"),                        # not scheduled: counted, holds nothing
    _pod("d", phase="Succeeded"),
    _pod("e", phase="Failed"),
    _pod("f", deployment=""),                          # not a pod of a Gantry deployment
    _pod("g", spec=["not", "a", "pod", "spec"]),       # malformed: skipped, the others still counted
    _pod("h", status={"phase": "Running"}),            # no conditions (some simulators): ready
]


def test_each_pod_is_read_once_into_plain_values():
    assert pod_facts(PODS[0]) == PodFacts("chat", "Running", 2, True)
    assert pod_facts(PODS[1]) == PodFacts("chat", "Running", 1, False)
    assert pod_facts(PODS[2]) == PodFacts("chat", "Pending", 0, False)
    assert pod_facts(PODS[5]) is None


def test_a_pod_gantry_cannot_read_is_skipped_and_said_so(caplog):
    with caplog.at_level(logging.WARNING, logger="clusters.observe"):
        assert pod_facts(PODS[6]) is None
    assert "skipped a pod Gantry cannot read" in caplog.text


def test_the_counts_of_a_deployment():
    obs = observations_build([pod_facts(p) for p in PODS], {}, {}, {"knative"})[("knative", "chat")]
    assert (obs.total_pods, obs.running_pods, obs.ready_pods, obs.gpus_in_use) == (4, 3, 2, 4)
    assert (obs.succeeded_pods, obs.failed_pods) == (1, 1)


def test_the_watchers_mirror_counts_what_the_list_sync_counts():
    mirror = Mirror("test")
    mirror.replace("pods", PODS)
    watched, _ = mirror.seen("tenant-nlp", "chat", "knative")
    listed = observations_build([pod_facts(p) for p in PODS], {}, {}, {"knative"})
    assert watched == {key: obs for key, obs in listed.items() if key == ("knative", "chat")}
    # A change of one pod is read again; the others are kept as they were read.
    mirror.apply("pods", "MODIFIED", _pod("c", phase="Running"))
    watched, _ = mirror.seen("tenant-nlp", "chat", "knative")
    assert watched[("knative", "chat")].ready_pods == 3


def _full(pod):
    """The pod as an API server sends it: what the counts read, among much they never read."""
    pod = {**pod, "apiVersion": "v1", "kind": "Pod"}
    pod["metadata"] = {**pod["metadata"], "uid": "0c6b", "creationTimestamp": "2026-12-04T10:00:00Z",
                       "ownerReferences": [{"kind": "ReplicaSet", "name": "chat-00001", "uid": "9f2e"}],
                       "managedFields": [{"manager": "kubelet", "fieldsV1": {"f:status": {"f:phase": {}}}}]}
    if isinstance(pod.get("spec"), dict):
        pod["spec"] = {**pod["spec"], "nodeName": "gpu-1", "volumes": [{"name": "model", "emptyDir": {}}]}
    return pod


def test_a_pod_list_is_read_by_the_fields_the_counts_need_and_counts_the_same():
    pods = [_full(p) for p in PODS if p["metadata"]["name"] != "g"]
    data = orjson.dumps({"kind": "PodList", "metadata": {"resourceVersion": "42"}, "items": pods})
    read = pod_list_decode(data)
    assert read["metadata"]["resourceVersion"] == "42" and len(read["items"]) == len(pods)
    first = read["items"][0]
    assert set(first["metadata"]) == {"name", "namespace", "resourceVersion", "labels"}, "uid, managedFields ... left"
    assert "nodeName" not in first["spec"] and "apiVersion" not in first
    assert [pod_facts(p) for p in read["items"]] == [pod_facts(p) for p in pods]


def test_a_pod_list_outside_the_schema_is_read_whole_and_its_other_pods_still_count(caplog):
    odd = _full(_pod("odd"))
    odd["metadata"]["labels"]["replicas"] = 3  # not a string: no API server sends it, a stand-in might
    data = orjson.dumps({"items": [_full(_pod("a")), odd]})
    with caplog.at_level(logging.WARNING, logger="clusters.observe"):
        read = pod_list_decode(data)
    assert "outside the expected schema" in caplog.text
    assert [pod_facts(p) for p in read["items"]] == [PodFacts("chat", "Running", 1, True)] * 2


def test_a_body_that_is_not_json_is_refused_as_json_is():
    with pytest.raises(ValueError):
        pod_list_decode(b'{"items": [')
