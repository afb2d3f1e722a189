"""The sandbox answers like a Kubernetes API server, seen through the official client."""

import json

import kubernetes
import pytest
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient

from .conftest import apply, knative_service

pytestmark = pytest.mark.timeout(30)


def test_namespace_create_answers_201_with_server_fields(sandbox, core):
    created = core.create_namespace({"metadata": {"name": "tenant-vision"}})

    assert created.metadata.name == "tenant-vision"
    assert created.metadata.uid and created.metadata.resource_version and created.metadata.creation_timestamp
    assert created.status.phase == "Active"
    assert sandbox.requests[-1].method == "POST" and sandbox.requests[-1].path == "/api/v1/namespaces"
    assert "tenant-vision" in [ns.metadata.name for ns in core.list_namespace().items]
    assert core.read_namespace("tenant-vision").metadata.uid == created.metadata.uid


def test_second_create_is_409_already_exists(core, team_ns):
    with pytest.raises(ApiException) as caught:
        core.create_namespace({"metadata": {"name": team_ns}})

    assert caught.value.status == 409
    body = json.loads(caught.value.body)
    assert body["kind"] == "Status" and body["reason"] == "AlreadyExists"


def test_create_in_missing_namespace_is_404(core):
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_secret("nowhere", {"metadata": {"name": "s"}})
    assert caught.value.status == 404
    assert 'namespaces "nowhere" not found' in json.loads(caught.value.body)["message"]


def test_generate_name_gives_a_unique_name(core, team_ns):
    first = core.create_namespaced_config_map(team_ns, {"metadata": {"generateName": "cfg-"}})
    second = core.create_namespaced_config_map(team_ns, {"metadata": {"generateName": "cfg-"}})
    assert first.metadata.name.startswith("cfg-") and first.metadata.name != second.metadata.name


def test_server_side_apply_creates_updates_and_is_idempotent(sandbox, custom, team_ns):
    service = knative_service("chat", annotations={"autoscaling.knative.dev/max-scale": "2"})
    apply(custom, service, plural="services")
    created = custom.get_namespaced_custom_object("serving.knative.dev", "v1", team_ns, "services", "chat")
    assert created["metadata"]["generation"] == 1
    assert created["metadata"]["managedFields"][0]["manager"] == "gantry"
    assert created["metadata"]["managedFields"][0]["operation"] == "Apply"

    again = apply(custom, service, plural="services")
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert again["metadata"]["generation"] == 1

    service["spec"]["template"]["metadata"]["annotations"] = {"autoscaling.knative.dev/max-scale": "4"}
    updated = apply(custom, service, plural="services")
    assert updated["metadata"]["resourceVersion"] != created["metadata"]["resourceVersion"]
    assert updated["metadata"]["generation"] == 2
    assert updated["spec"]["template"]["metadata"]["annotations"] == {"autoscaling.knative.dev/max-scale": "4"}
    assert updated["metadata"]["uid"] == created["metadata"]["uid"]


def test_apply_keeps_status_written_by_the_controller(custom, team_ns):
    apply(custom, knative_service("chat"), plural="services")
    custom.patch_namespaced_custom_object_status(
        "serving.knative.dev", "v1", team_ns, "services", "chat", {"status": {"url": "http://chat.example.com"}})
    reapplied = apply(custom, knative_service("chat", gpu="2"), plural="services")
    assert reapplied["status"]["url"] == "http://chat.example.com"


def test_apply_conflict_without_force_is_409(custom, team_ns):
    apply(custom, knative_service("chat"), plural="services")
    other = knative_service("chat", gpu="2")
    with pytest.raises(ApiException) as caught:
        custom.patch_namespaced_custom_object(
            "serving.knative.dev", "v1", team_ns, "services", "chat", other,
            field_manager="kubectl", _content_type="application/apply-patch+yaml")
    assert caught.value.status == 409
    assert "conflict" in json.loads(caught.value.body)["message"]


def test_put_with_stale_resource_version_is_409(core, team_ns):
    cm = core.create_namespaced_config_map(team_ns, {"metadata": {"name": "cfg"}, "data": {"a": "1"}})
    stale = cm.metadata.resource_version
    cm.data = {"a": "2"}
    replaced = core.replace_namespaced_config_map("cfg", team_ns, cm)
    assert replaced.data == {"a": "2"} and replaced.metadata.resource_version != stale

    cm.data = {"a": "3"}
    cm.metadata.resource_version = stale
    with pytest.raises(ApiException) as caught:
        core.replace_namespaced_config_map("cfg", team_ns, cm)
    assert caught.value.status == 409
    assert core.read_namespaced_config_map("cfg", team_ns).data == {"a": "2"}


@pytest.mark.parametrize("selector, expected", [
    ("app=a", ["a1", "a2"]),
    ("app!=a", ["b1", "n1"]),
    ("app in (a,b),tier=gpu", ["a2", "b1"]),
    ("app notin (a)", ["b1", "n1"]),
    ("tier", ["a2", "b1"]),
    ("!tier", ["a1", "n1"]),
])
def test_label_selectors_filter_lists(core, team_ns, selector, expected):
    for name, labels in [("a1", {"app": "a"}), ("a2", {"app": "a", "tier": "gpu"}),
                         ("b1", {"app": "b", "tier": "gpu"}), ("n1", {})]:
        core.create_namespaced_config_map(team_ns, {"metadata": {"name": name, "labels": labels}})
    listed = core.list_namespaced_config_map(team_ns, label_selector=selector)
    assert sorted(cm.metadata.name for cm in listed.items) == expected


def test_watch_streams_matching_events_and_ends_at_timeout(core, team_ns):
    core.create_namespaced_config_map(team_ns, {"metadata": {"name": "seen", "labels": {"app": "a"}}})
    core.create_namespaced_config_map(team_ns, {"metadata": {"name": "other", "labels": {"app": "b"}}})
    watch = kubernetes.watch.Watch()
    events = list(watch.stream(core.list_namespaced_config_map, team_ns, label_selector="app=a",
                               timeout_seconds=1))
    assert [(e["type"], e["object"].metadata.name) for e in events] == [("ADDED", "seen")]


def test_invalid_knative_service_is_rejected_with_the_schema_message(custom, team_ns):
    bad = knative_service("chat", extra_spec={"gpuCount": 2})
    with pytest.raises(ApiException) as caught:
        apply(custom, bad, plural="services")

    assert caught.value.status == 422
    status = json.loads(caught.value.body)
    assert status["kind"] == "Status" and status["reason"] == "Invalid" and status["code"] == 422
    assert status["message"].startswith('Service.serving.knative.dev "chat" is invalid: spec.template.spec')
    assert "gpuCount" in status["message"]
    with pytest.raises(ApiException) as missing:
        custom.get_namespaced_custom_object("serving.knative.dev", "v1", team_ns, "services", "chat")
    assert missing.value.status == 404


def test_unknown_resource_type_is_404_like_a_missing_crd(custom, team_ns):
    with pytest.raises(ApiException) as caught:
        custom.list_namespaced_custom_object("ray.io", "v1", team_ns, "rayclusters")
    assert caught.value.status == 404
    assert json.loads(caught.value.body)["message"] == "the server could not find the requested resource"


def test_discovery_finds_the_crds(api):
    dynamic = DynamicClient(api)
    for api_version, kind in [("serving.knative.dev/v1", "Service"), ("serving.kserve.io/v1beta1", "InferenceService"),
                              ("argoproj.io/v1alpha1", "Workflow"), ("v1", "Pod"), ("v1", "Event")]:
        resource = dynamic.resources.get(api_version=api_version, kind=kind)
        assert resource.namespaced
    namespaces = dynamic.resources.get(api_version="v1", kind="Namespace")
    assert not namespaces.namespaced


def test_delete_removes_the_object_and_its_dependents(core, custom, team_ns):
    apply(custom, knative_service("chat"), plural="services")
    owner = custom.get_namespaced_custom_object("serving.knative.dev", "v1", team_ns, "services", "chat")
    core.create_namespaced_config_map(team_ns, {"metadata": {"name": "owned", "ownerReferences": [
        {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "chat", "uid": owner["metadata"]["uid"]}]}})

    custom.delete_namespaced_custom_object("serving.knative.dev", "v1", team_ns, "services", "chat",
                                           propagation_policy="Foreground")

    assert custom.list_namespaced_custom_object("serving.knative.dev", "v1", team_ns, "services")["items"] == []
    assert [cm.metadata.name for cm in core.list_namespaced_config_map(team_ns).items] == []
