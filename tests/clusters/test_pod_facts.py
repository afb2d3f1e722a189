"""What the counts read of each pod (clusters/observe.py, PodFacts): the list sync reads them off the pods it
lists, the watcher's mirror keeps them in place of the pods; both must count the same."""

import logging

from clusters.labels import DEPLOYMENT_LABEL
from clusters.observe import PodFacts, observations_build, pod_facts
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
