"""Active, warm or at zero, from Knative's own Revisions: clusters/scale.py, and namespace_observe over HTTP."""

from datetime import datetime, timezone

import pytest

import clusters as cluster
from clusters.scale import revision_scale_read, scale_read
from specs.render import manifests_render
from tests.cluster_helpers import requests_matching, spec_completed

pytestmark = [pytest.mark.timeout(30)]

INACTIVE_AT = "2026-03-01T10:00:00Z"


def _revision(name, active, *, actual, desired, reason="", since=INACTIVE_AT):
    return {"metadata": {"name": name}, "status": {
        "actualReplicas": actual, "desiredReplicas": desired,
        "conditions": [{"type": "Ready", "status": "True"},
                       {"type": "Active", "status": active, "reason": reason, "lastTransitionTime": since}]}}


def _ksvc(traffic=None, latest="chat-00002"):
    return {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": {"name": "chat"},
            "status": {"latestReadyRevisionName": latest, **({"traffic": traffic} if traffic is not None else {})}}


def test_a_revision_kept_by_the_retention_reads_inactive_with_a_pod_still_there():
    read = revision_scale_read(_revision("chat-00001", "False", actual=1, desired=0, reason="NoTraffic"))
    assert read == {"active": False, "reason": "NoTraffic", "since": INACTIVE_AT, "actual": 1, "desired": 0}


def test_what_the_cluster_wrote_is_checked_before_it_is_believed():
    odd = {"status": {"actualReplicas": "1", "desiredReplicas": -2, "conditions": "Active"}}
    assert revision_scale_read(odd) == {"active": None, "reason": "", "since": None, "actual": None, "desired": None}
    assert scale_read(_ksvc(traffic=[{"revisionName": ["x"], "percent": "100"}]), {}) is None


def test_only_revisions_with_traffic_count_and_the_last_to_go_idle_sets_the_time():
    revisions = {
        "chat-00001": _revision("chat-00001", "False", actual=1, desired=0, reason="NoTraffic",
                                since="2026-03-01T09:00:00Z"),
        "chat-00002": _revision("chat-00002", "False", actual=1, desired=0, reason="NoTraffic"),
        "chat-00003": _revision("chat-00003", "True", actual=4, desired=4),  # tagged, no traffic
    }
    split = [{"revisionName": "chat-00001", "percent": 80}, {"revisionName": "chat-00002", "percent": 20},
             {"revisionName": "chat-00003", "percent": 0, "tag": "next"}]
    assert scale_read(_ksvc(split), revisions) == {
        "revisions": 2, "active": False, "reason": "NoTraffic", "since": INACTIVE_AT, "actual": 2, "desired": 0}
    revisions["chat-00001"] = _revision("chat-00001", "True", actual=1, desired=1)
    assert scale_read(_ksvc(split), revisions)["active"] is True  # one busy revision keeps the service active


def test_without_traffic_status_the_latest_ready_revision_counts_and_an_unknown_one_reads_none():
    revisions = {"chat-00002": _revision("chat-00002", "Unknown", actual=0, desired=1, reason="Queued")}
    read = scale_read(_ksvc(), revisions)
    assert read["active"] is None and (read["actual"], read["desired"]) == (0, 1)
    assert scale_read(_ksvc(latest="chat-00009"), revisions) is None  # not listed (yet): unknown


def test_an_inference_service_is_read_through_its_predictors_revisions():
    isvc = {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService", "metadata": {"name": "chat"},
            "status": {"components": {"predictor": {
                "latestReadyRevision": "chat-predictor-00001",
                "traffic": [{"revisionName": "chat-predictor-00001", "percent": 100, "latestRevision": True}]}}}}
    revisions = {"chat-predictor-00001": _revision("chat-predictor-00001", "False", actual=0, desired=0,
                                                   reason="NoTraffic")}
    assert scale_read(isvc, revisions)["active"] is False
    workflow = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "status": {}}
    assert scale_read(workflow, revisions) is None


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["knative", "kserve"])
def test_observe_reads_the_warm_state_from_the_revisions_in_one_list(sandbox, sandbox_kubeconfig, team, target):
    spec = spec_completed(name="warm", target=target,
                          scaling={"min_replicas": 0, "max_replicas": 2, "scale_to_zero_retention": "5m"})
    cluster.namespace_ensure("tenant-nlp")
    cluster.objects_apply(manifests_render(spec, revision=1))
    sandbox.simulator.set_traffic("tenant-nlp", "warm", "idle")
    for _ in range(3):  # up, then idle through the 60 s stable window and 75 s into the retention
        sandbox.simulator.tick()
        sandbox.simulator.advance(45)
    sandbox.simulator.tick()
    sandbox.clear_log()

    obs = cluster.namespace_observe("tenant-nlp", {target})[(target, "warm")]

    assert obs.total_pods == 1
    assert (obs.scale["active"], obs.scale["reason"], obs.scale["desired"], obs.scale["actual"]) == (
        False, "NoTraffic", 0, 1)
    inactive_for = (datetime.now(timezone.utc) - datetime.fromisoformat(obs.scale["since"])).total_seconds()
    assert 70 <= inactive_for <= 80  # 135 s idle - 60 s stable window
    assert len(requests_matching(sandbox, "GET", "/revisions")) == 1
    assert len(sandbox.requests) == 3  # pods, the target's kind, revisions


@pytest.mark.django_db
def test_observe_of_batch_runs_lists_no_revisions(sandbox, sandbox_kubeconfig):
    cluster.namespace_ensure("tenant-nlp")
    sandbox.clear_log()
    cluster.namespace_observe("tenant-nlp", {"argo"})
    assert not requests_matching(sandbox, "GET", "/revisions")
