"""The simulated Knative autoscaler, KServe and Argo controllers, driven by a fake clock."""

import pytest

from .conftest import apply, knative_service

pytestmark = pytest.mark.timeout(30)
KSVC = ("serving.knative.dev", "v1")


def _pods(core, namespace, selector):
    return core.list_namespaced_pod(namespace, label_selector=selector).items


def _condition(obj, type_):
    return next(c["status"] for c in obj["status"]["conditions"] if c["type"] == type_)


def test_knative_service_gets_labelled_gpu_pods_and_becomes_ready(sandbox, core, custom, team_ns):
    service = knative_service("chat", annotations={"autoscaling.knative.dev/min-scale": "1",
                                                   "autoscaling.knative.dev/max-scale": "3"})
    service["metadata"]["annotations"]["sandbox.gantry.io/traffic"] = "steady"
    apply(custom, service, plural="services")

    sandbox.simulator.tick()
    pods = _pods(core, team_ns, "serving.knative.dev/service=chat")
    assert len(pods) == 2  # steady traffic asks for half of max-scale, rounded up
    assert {p.status.phase for p in pods} == {"Pending"}
    labels = pods[0].metadata.labels
    assert labels["app.kubernetes.io/managed-by"] == "gantry"
    assert labels["gantry.io/deployment"] == "chat" and labels["gantry.io/team"] == "nlp"
    assert pods[0].spec.containers[0].resources.limits == {"nvidia.com/gpu": "1"}
    pending = custom.get_namespaced_custom_object(*KSVC, team_ns, "services", "chat")
    assert _condition(pending, "Ready") == "Unknown" and "url" not in pending["status"]

    sandbox.simulator.advance(30)
    sandbox.simulator.tick()
    assert {p.status.phase for p in _pods(core, team_ns, "serving.knative.dev/service=chat")} == {"Running"}
    ready = custom.get_namespaced_custom_object(*KSVC, team_ns, "services", "chat")
    assert _condition(ready, "Ready") == "True"
    assert ready["status"]["url"] == f"http://chat.{team_ns}.example.com"

    sandbox.simulator.set_traffic(team_ns, "chat", "idle")
    sandbox.simulator.advance(120)
    sandbox.simulator.tick()
    assert len(_pods(core, team_ns, "serving.knative.dev/service=chat")) == 1  # min-scale holds one
    reasons = [e.message for e in core.list_namespaced_event(team_ns).items if e.involved_object.name == "chat"]
    assert "Scaled to 1" in reasons


def test_cluster_local_service_gets_a_cluster_url(sandbox, custom, team_ns):
    apply(custom, knative_service("inner", labels={"networking.knative.dev/visibility": "cluster-local"}),
          plural="services")
    sandbox.simulator.tick()
    sandbox.simulator.advance(30)
    sandbox.simulator.tick()
    service = custom.get_namespaced_custom_object(*KSVC, team_ns, "services", "inner")
    assert service["status"]["url"] == f"http://inner.{team_ns}.svc.cluster.local"


def test_idle_service_with_min_zero_scales_to_zero_after_retention(sandbox, core, custom, team_ns):
    apply(custom, knative_service("chat", annotations={
        "autoscaling.knative.dev/min-scale": "0",
        "autoscaling.knative.dev/scale-to-zero-pod-retention-period": "5m"}), plural="services")
    sandbox.simulator.tick()
    sandbox.simulator.advance(30)
    sandbox.simulator.tick()
    assert len(_pods(core, team_ns, "serving.knative.dev/service=chat")) == 1  # initial scale

    sandbox.simulator.advance(200)  # inside the 60 s window + 5 min retention
    sandbox.simulator.tick()
    assert len(_pods(core, team_ns, "serving.knative.dev/service=chat")) == 1

    sandbox.simulator.advance(200)
    sandbox.simulator.tick()
    assert _pods(core, team_ns, "serving.knative.dev/service=chat") == []
    service = custom.get_namespaced_custom_object(*KSVC, team_ns, "services", "chat")
    assert _condition(service, "Ready") == "True"  # scaled to zero is not a failure
    events = [e for e in core.list_namespaced_event(team_ns).items if e.involved_object.name == "chat"]
    assert [e.message for e in events] == ["Scaled to 0"]


def test_inference_service_pods_carry_the_kserve_label(sandbox, core, custom, team_ns):
    isvc = {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
            "metadata": {"name": "llama", "namespace": team_ns, "labels": {"gantry.io/deployment": "llama"}},
            "spec": {"predictor": {"minReplicas": 1, "maxReplicas": 2, "model": {
                "modelFormat": {"name": "huggingface"}, "storageUri": "hf://meta/llama",
                "resources": {"limits": {"nvidia.com/gpu": "2"}}}}}}
    apply(custom, isvc, plural="inferenceservices", group="serving.kserve.io", version="v1beta1")
    sandbox.simulator.tick()
    sandbox.simulator.advance(30)
    sandbox.simulator.tick()

    [pod] = _pods(core, team_ns, "serving.kserve.io/inferenceservice=llama")
    assert pod.metadata.labels["gantry.io/deployment"] == "llama"
    assert pod.spec.containers[0].resources.limits == {"nvidia.com/gpu": "2"}
    isvc = custom.get_namespaced_custom_object("serving.kserve.io", "v1beta1", team_ns, "inferenceservices", "llama")
    assert _condition(isvc, "Ready") == "True" and isvc["status"]["url"].startswith("http://llama.")


def _workflow(name, namespace, *, fail=False):
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"name": name, "namespace": namespace,
                     "annotations": {"sandbox.gantry.io/fail": "true"} if fail else {}},
        "spec": {"entrypoint": "run", "parallelism": 2,
                 "podMetadata": {"labels": {"gantry.io/deployment": name}},
                 "templates": [
                     {"name": "run", "steps": [[{"name": "shard", "template": "shard",
                                                 "withSequence": {"count": "2"}}]]},
                     {"name": "shard", "container": {"image": "ghcr.io/example/batch:1",
                                                     "resources": {"limits": {"nvidia.com/gpu": "1"}}}}]},
    }


def _run_workflow(sandbox, custom, namespace, name, steps=4):
    phases = []
    for _ in range(steps):
        sandbox.simulator.tick()
        sandbox.simulator.advance(45)
        wf = custom.get_namespaced_custom_object("argoproj.io", "v1alpha1", namespace, "workflows", name)
        phases.append((wf["status"]["phase"], wf["status"]["progress"]))
    return wf, phases


def test_workflow_shards_run_to_succeeded(sandbox, core, custom, team_ns):
    custom.create_namespaced_custom_object("argoproj.io", "v1alpha1", team_ns, "workflows", _workflow("nightly", team_ns))
    wf, phases = _run_workflow(sandbox, custom, team_ns, "nightly")

    assert phases[0] == ("Running", "0/2")
    assert wf["status"]["phase"] == "Succeeded" and wf["status"]["progress"] == "2/2"
    assert wf["status"]["startedAt"] and wf["status"]["finishedAt"]
    pods = _pods(core, team_ns, "workflows.argoproj.io/workflow=nightly,gantry.io/deployment=nightly")
    assert [p.status.phase for p in pods] == ["Succeeded", "Succeeded"]
    assert pods[0].spec.containers[0].resources.limits == {"nvidia.com/gpu": "1"}


def test_workflow_failure_knob_ends_in_failed(sandbox, custom, team_ns):
    custom.create_namespaced_custom_object("argoproj.io", "v1alpha1", team_ns, "workflows",
                                           _workflow("broken", team_ns, fail=True))
    wf, _ = _run_workflow(sandbox, custom, team_ns, "broken")
    assert wf["status"]["phase"] == "Failed" and wf["status"]["message"]


def test_deleting_a_service_removes_its_pods(sandbox, core, custom, team_ns):
    apply(custom, knative_service("chat", annotations={"autoscaling.knative.dev/min-scale": "2"}), plural="services")
    sandbox.simulator.tick()
    assert len(_pods(core, team_ns, "serving.knative.dev/service=chat")) == 2

    custom.delete_namespaced_custom_object(*KSVC, team_ns, "services", "chat", propagation_policy="Foreground")
    sandbox.simulator.tick()
    assert _pods(core, team_ns, "app.kubernetes.io/managed-by=gantry") == []


def test_background_simulator_brings_a_service_up_in_real_time(sandbox_simulated, core, custom, team_ns):
    import time

    apply(custom, knative_service("live", annotations={"autoscaling.knative.dev/min-scale": "1"}), plural="services")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        pods = _pods(core, team_ns, "serving.knative.dev/service=live")
        if pods and all(p.status.phase == "Running" for p in pods):
            break
        time.sleep(0.1)
    assert pods and all(p.status.phase == "Running" for p in pods)



def _revision(custom, namespace, name):
    revision = custom.get_namespaced_custom_object(*KSVC, namespace, "revisions", name)
    active = next(c for c in revision["status"]["conditions"] if c["type"] == "Active")
    return revision["status"], active


def test_warm_pods_are_told_by_the_revision_as_knative_does(sandbox, core, custom, team_ns):
    from datetime import datetime, timezone

    apply(custom, knative_service("warm", annotations={
        "autoscaling.knative.dev/min-scale": "0",
        "autoscaling.knative.dev/scale-to-zero-pod-retention-period": "5m"}), plural="services")
    sandbox.simulator.set_traffic(team_ns, "warm", "idle")
    sandbox.simulator.tick()
    sandbox.simulator.advance(20)
    sandbox.simulator.tick()
    status, active = _revision(custom, team_ns, "warm-00001")
    # Inside the stable window (60 s) the autoscaler still wants the pod: active.
    assert active["status"] == "True" and (status["desiredReplicas"], status["actualReplicas"]) == (1, 1)

    sandbox.simulator.advance(80)
    sandbox.simulator.tick()
    status, active = _revision(custom, team_ns, "warm-00001")
    # 100 s idle: inactive since the stable window ended (40 s ago); the retention keeps the pod.
    assert (active["status"], active["reason"]) == ("False", "NoTraffic")
    inactive_for = (datetime.now(timezone.utc) - datetime.fromisoformat(active["lastTransitionTime"])).total_seconds()
    assert 35 <= inactive_for <= 45
    assert (status["desiredReplicas"], status["actualReplicas"]) == (0, 1)
    assert len(_pods(core, team_ns, "serving.knative.dev/service=warm")) == 1  # still warm

    sandbox.simulator.tick()
    assert _revision(custom, team_ns, "warm-00001")[1]["lastTransitionTime"] == active["lastTransitionTime"]
    sandbox.simulator.advance(60)  # a jump of the simulated clock moves the transition back in wall-clock time
    sandbox.simulator.tick()
    _, active = _revision(custom, team_ns, "warm-00001")
    inactive_for = (datetime.now(timezone.utc) - datetime.fromisoformat(active["lastTransitionTime"])).total_seconds()
    assert 95 <= inactive_for <= 105

    sandbox.simulator.advance(400)
    sandbox.simulator.tick()
    status, active = _revision(custom, team_ns, "warm-00001")
    assert _pods(core, team_ns, "serving.knative.dev/service=warm") == []
    assert active["status"] == "False" and (status["desiredReplicas"], status["actualReplicas"]) == (0, 0)
    service = custom.get_namespaced_custom_object(*KSVC, team_ns, "services", "warm")
    assert not (service["status"].get("annotations") or {})  # nothing a real Knative does not write

    sandbox.simulator.set_traffic(team_ns, "warm", "steady")
    sandbox.simulator.tick()
    status, active = _revision(custom, team_ns, "warm-00001")
    assert (active["status"], active["reason"]) == ("Unknown", "Queued")  # activating: pods provisioned
    assert status["desiredReplicas"] >= 1 and status["actualReplicas"] == 0


def test_min_scale_pods_never_go_inactive(sandbox, custom, team_ns):
    apply(custom, knative_service("kept", annotations={"autoscaling.knative.dev/min-scale": "1"}), plural="services")
    sandbox.simulator.set_traffic(team_ns, "kept", "idle")
    for _ in range(3):
        sandbox.simulator.tick()
        sandbox.simulator.advance(600)
    sandbox.simulator.tick()
    status, active = _revision(custom, team_ns, "kept-00001")
    assert active["status"] == "True" and status["desiredReplicas"] == status["actualReplicas"] == 1


def test_knative_revisions_follow_configuration_generations(sandbox, custom, team_ns):
    apply(custom, knative_service("chat"), plural="services")
    sandbox.simulator.tick()
    apply(custom, knative_service("chat", gpu="2"), plural="services")
    sandbox.simulator.tick()
    revisions = custom.list_namespaced_custom_object(*KSVC, team_ns, "revisions")["items"]
    assert [r["metadata"]["name"] for r in revisions] == ["chat-00001", "chat-00002"]
    assert revisions[1]["metadata"]["labels"]["serving.knative.dev/configurationGeneration"] == "2"
    route = custom.get_namespaced_custom_object(*KSVC, team_ns, "routes", "chat")
    assert route["spec"]["traffic"] == [{"configurationName": "chat", "latestRevision": True, "percent": 100}]
    sandbox.simulator.advance(30)
    sandbox.simulator.tick()
    route = custom.get_namespaced_custom_object(*KSVC, team_ns, "routes", "chat")
    assert route["status"]["traffic"] == [{"revisionName": "chat-00002", "latestRevision": True, "percent": 100}]


def test_pod_gc_on_pod_success_deletes_finished_shards_only_once(sandbox, core, custom, team_ns):
    workflow = _workflow("batch", team_ns)
    workflow["spec"]["podGC"] = {"strategy": "OnPodSuccess"}
    custom.create_namespaced_custom_object("argoproj.io", "v1alpha1", team_ns, "workflows", workflow)
    for _ in range(4):
        sandbox.simulator.tick()
        sandbox.simulator.advance(40)
    sandbox.simulator.tick()
    done = custom.get_namespaced_custom_object("argoproj.io", "v1alpha1", team_ns, "workflows", "batch")
    assert done["status"]["phase"] == "Succeeded" and done["status"]["progress"] == "2/2"
    assert core.list_namespaced_pod(team_ns).items == []
