"""clusters over real HTTP against the sandbox API server (no patched client)."""

import copy

import pytest

import clusters as cluster
from specs.render import manifests_render
from tests.cluster_helpers import KSVC, requests_matching, spec_completed

pytestmark = [pytest.mark.timeout(30), pytest.mark.django_db]


@pytest.fixture
def manifests(team):
    spec = spec_completed(storage={"tier": "nvme-pvc", "pvc_size_gi": 100},
                          model={"uri": "pvc://models/llama-3-8b", "parameters_billions": 8.0, "precision": "bf16",
                                 "format": "tensorizer"})
    objects = manifests_render(spec, revision=1)
    assert [o["kind"] for o in objects] == ["PersistentVolumeClaim", "Service"]
    return objects


def test_ping_reports_the_api_server_version(sandbox_kubeconfig):
    assert cluster.cluster_ping().startswith("v1.")


def test_without_configuration_every_call_says_no_cluster_is_configured(settings):
    settings.KUBECONFIG = ""
    with pytest.raises(cluster.ClusterError) as err:
        cluster.cluster_ping()
    assert err.value.permanent and err.value.message == "no cluster configured"


def test_apply_creates_every_object_by_server_side_apply_as_gantry(sandbox, sandbox_kubeconfig, manifests):
    cluster.namespace_ensure("tenant-nlp", {"gantry.io/team": "nlp"})
    cluster.objects_apply(manifests)

    patches = requests_matching(sandbox, "PATCH")
    assert [r.path.rsplit("/", 2)[-2] for r in patches] == ["namespaces", "persistentvolumeclaims", "services"]
    for request in patches:
        assert request.content_type == "application/apply-patch+yaml"
        assert request.query["fieldManager"] == "gantry"
        assert request.query["force"] == "true"
    ksvc = sandbox.object(KSVC, "tenant-nlp", "llama-chat")
    assert ksvc["metadata"]["annotations"]["gantry.io/revision"] == "1"
    assert ksvc["metadata"]["managedFields"][0]["manager"] == "gantry"
    assert sandbox.object("persistentvolumeclaims", "tenant-nlp", manifests[0]["metadata"]["name"]) is not None
    assert sandbox.object("namespaces", None, "tenant-nlp")["metadata"]["labels"]["gantry.io/team"] == "nlp"


def test_applying_the_same_objects_again_changes_nothing(sandbox, sandbox_kubeconfig, manifests):
    cluster.namespace_ensure("tenant-nlp")
    first = cluster.objects_apply(manifests)
    second = cluster.objects_apply(manifests)
    assert [o["metadata"]["resourceVersion"] for o in second] == [o["metadata"]["resourceVersion"] for o in first]
    assert [o["metadata"]["uid"] for o in second] == [o["metadata"]["uid"] for o in first]


def test_a_changed_spec_updates_the_object_in_place(sandbox, sandbox_kubeconfig, manifests):
    cluster.namespace_ensure("tenant-nlp")
    before = cluster.objects_apply(manifests)[-1]
    changed = copy.deepcopy(manifests[-1])
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/acme/llm-server:1.5"
    after = cluster.objects_apply([changed])[0]
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["metadata"]["resourceVersion"] != before["metadata"]["resourceVersion"]
    live = cluster.object_get(changed)
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/acme/llm-server:1.5"


def test_an_invalid_object_is_a_permanent_error_with_the_servers_message(sandbox_kubeconfig, manifests):
    cluster.namespace_ensure("tenant-nlp")
    broken = copy.deepcopy(manifests[-1])
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(cluster.ClusterError) as err:
        cluster.objects_apply([broken])
    assert err.value.permanent
    assert "is invalid" in err.value.message and "imagePullPolicyy" in err.value.message


@pytest.mark.parametrize("status, permanent", [(503, False), (500, False), (429, False), (403, True), (409, True)])
def test_http_errors_are_classified_transient_or_permanent(sandbox, sandbox_kubeconfig, manifests, status, permanent):
    cluster.namespace_ensure("tenant-nlp")
    sandbox.fail_next("PATCH", r"/services/llama-chat$", status=status, message=f"server says {status}")
    with pytest.raises(cluster.ClusterError) as err:
        cluster.objects_apply(manifests)
    assert err.value.permanent is permanent
    assert f"server says {status}" in err.value.message
    cluster.objects_apply(manifests)  # the fault was one-off: the next push goes through


def test_a_dropped_connection_is_transient_and_not_retried_behind_our_back(sandbox, sandbox_kubeconfig, manifests):
    cluster.namespace_ensure("tenant-nlp")
    cluster.objects_apply(manifests)
    sandbox.clear_log()
    sandbox.drop_next("GET", r"/services/llama-chat$")
    with pytest.raises(cluster.ClusterError) as err:
        cluster.object_get(manifests[-1])
    assert not err.value.permanent
    assert len(requests_matching(sandbox, "GET", "/services/llama-chat")) == 1  # urllib3 did not retry


def test_a_type_the_cluster_does_not_serve_is_permanent(sandbox_kubeconfig):
    with pytest.raises(cluster.ClusterError) as err:
        cluster.objects_list("example.io/v1", "Widget", "tenant-nlp")
    assert err.value.permanent


def test_list_get_status_events_and_delete(sandbox, sandbox_kubeconfig, manifests):
    cluster.namespace_ensure("tenant-nlp")
    cluster.objects_apply(manifests)
    sandbox.simulator.tick()
    sandbox.simulator.advance(60)
    sandbox.simulator.tick()

    pods = cluster.pods_list("tenant-nlp")
    assert pods and all(p["metadata"]["labels"]["gantry.io/deployment"] == "llama-chat" for p in pods)
    assert requests_matching(sandbox, "GET", "/pods")[-1].query["labelSelector"] == "app.kubernetes.io/managed-by=gantry"
    status = cluster.object_status(manifests[-1])
    assert status["ready"] is True and status["url"].startswith("http://llama-chat.")
    assert status["revision"] == "1" and status["min_scale"] == 0
    assert isinstance(cluster.events_list("tenant-nlp", "llama-chat"), list)

    assert cluster.objects_delete(manifests) == 2
    delete = requests_matching(sandbox, "DELETE")[-1]
    assert delete.query["propagationPolicy"] == "Foreground"
    assert cluster.object_get(manifests[-1]) is None
    assert cluster.objects_delete(manifests) == 0  # already gone is fine
    assert cluster.pods_list("tenant-nlp") == []


def test_status_read_understands_workflows():
    workflow = {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "w"},
        "status": {"phase": "Running", "progress": "3/4", "startedAt": "2026-01-01T00:00:00Z"},
    }
    status = cluster.status_read(workflow)
    assert status["phase"] == "Running" and status["progress"] == (3, 4)
    assert status["started_at"] == "2026-01-01T00:00:00Z" and status["finished_at"] is None


def test_events_are_a_deployments_own_not_those_of_a_name_that_starts_the_same(sandbox, sandbox_kubeconfig):
    # "chat" used to collect the events of "chat-v2"'s pods (a name prefix match).
    from sandbox.resources import resource_type
    from sandbox.sim_pods import event_emit

    cluster.namespace_ensure("tenant-nlp")
    pods = resource_type("pods")
    made = {}
    for deployment, pod in [("chat", "chat-00001-deployment-abc12"), ("chat-v2", "chat-v2-00001-deployment-xyz34")]:
        made[pod] = sandbox.store.create(pods, "tenant-nlp", {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod, "labels": {"gantry.io/deployment": deployment,
                                                 "app.kubernetes.io/managed-by": "gantry"}},
            "spec": {"containers": [{"name": "model", "image": "x:1"}]}})
        event_emit(sandbox.store, made[pod], reason="Pulled", message=f"image pulled for {pod}")
    revision = {"apiVersion": "serving.knative.dev/v1", "kind": "Revision",
                "metadata": {"name": "chat-00001", "namespace": "tenant-nlp", "uid": "r1"}}
    event_emit(sandbox.store, revision, reason="Ready", message="revision ready")

    names = [ev["involvedObject"]["name"] for ev in cluster.events_list("tenant-nlp", "chat")]
    assert sorted(names) == ["chat-00001", "chat-00001-deployment-abc12"]
    names = [ev["involvedObject"]["name"] for ev in cluster.events_list("tenant-nlp", "chat-v2")]
    assert names == ["chat-v2-00001-deployment-xyz34"]
