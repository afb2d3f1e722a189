"""Discovery, OpenAPI, delete answers and update rules, as kube-apiserver gives them."""

import json

import pytest
import requests
from kubernetes.client.exceptions import ApiException

from sandbox import crdschema
from sandbox.resources import RESOURCE_TYPES

from .conftest import apply, knative_service

pytestmark = pytest.mark.timeout(30)


def test_core_discovery_names_group_version_v1_with_subresources(sandbox):
    doc = requests.get(f"{sandbox.url}/api/v1", timeout=5).json()
    assert doc["kind"] == "APIResourceList" and doc["groupVersion"] == "v1"
    by_name = {r["name"]: r for r in doc["resources"]}
    assert by_name["pods"]["shortNames"] == ["po"] and by_name["pods"]["singularName"] == "pod"
    assert by_name["pods/log"] == {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod",
                                   "verbs": ["get"]}
    assert "deletecollection" not in by_name["namespaces"]["verbs"]
    groups = requests.get(f"{sandbox.url}/apis", timeout=5).json()
    assert {g["name"] for g in groups["groups"]} >= {"serving.knative.dev", "serving.kserve.io", "argoproj.io"}


def test_custom_resource_names_match_their_crds():
    for rt in RESOURCE_TYPES:
        entry = crdschema.crd_version(rt.api_version, rt.kind)
        if entry is None:
            continue
        names = entry["names"]
        assert (rt.plural, rt.kind) == (names["plural"], names["kind"])
        assert set(rt.shortnames) == set(names.get("shortNames", [])), rt
        assert set(rt.categories) == set(names.get("categories", [])), rt
        assert ("status" in rt.subresources) == ("status" in (entry.get("subresources") or {})), rt


@pytest.mark.parametrize("path", ["/healthz", "/livez", "/readyz"])
def test_health_endpoints_answer_ok(sandbox, path):
    response = requests.get(sandbox.url + path, timeout=5)
    assert (response.status_code, response.text) == (200, "ok")


def test_openapi_v3_has_the_patch_operation_kubectl_checks_for_field_validation(sandbox):
    index = requests.get(f"{sandbox.url}/openapi/v3", timeout=5).json()
    url = index["paths"]["apis/serving.knative.dev/v1"]["serverRelativeURL"]
    doc = requests.get(sandbox.url + url, timeout=30).json()
    patch = doc["paths"]["/apis/serving.knative.dev/v1/namespaces/{namespace}/services/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "serving.knative.dev", "version": "v1",
                                                         "kind": "Service"}
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
    service = doc["components"]["schemas"]["dev.knative.serving.v1.Service"]
    assert service["x-kubernetes-group-version-kind"] == [{"group": "serving.knative.dev", "kind": "Service",
                                                           "version": "v1"}]


def test_delete_answers_the_object_or_a_status_as_the_registry_does(sandbox, core, custom, team_ns):
    core.create_namespaced_config_map(team_ns, {"metadata": {"name": "cfg"}})
    status = requests.delete(f"{sandbox.url}/api/v1/namespaces/{team_ns}/configmaps/cfg", timeout=5).json()
    assert status["kind"] == "Status" and status["status"] == "Success"
    assert status["details"]["name"] == "cfg" and status["details"]["kind"] == "configmaps"
    core.create_namespaced_persistent_volume_claim(team_ns, {"metadata": {"name": "vol"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
    claim = requests.delete(f"{sandbox.url}/api/v1/namespaces/{team_ns}/persistentvolumeclaims/vol", timeout=5).json()
    assert claim["kind"] == "PersistentVolumeClaim" and claim["metadata"]["name"] == "vol"
    apply(custom, knative_service("chat"), plural="services")
    ksvc = requests.delete(f"{sandbox.url}/apis/serving.knative.dev/v1/namespaces/{team_ns}/services/chat",
                           timeout=5).json()
    assert ksvc["kind"] == "Status" and ksvc["details"]["group"] == "serving.knative.dev"
    missing = requests.delete(f"{sandbox.url}/api/v1/namespaces/{team_ns}/configmaps/cfg", timeout=5)
    assert missing.status_code == 404 and missing.json()["details"] == {"name": "cfg", "kind": "configmaps"}


def test_pvc_storage_request_cannot_shrink(core, team_ns):
    core.create_namespaced_persistent_volume_claim(team_ns, {"metadata": {"name": "vol"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}})
    core.patch_namespaced_persistent_volume_claim("vol", team_ns, {"spec": {"resources": {"requests": {
        "storage": "20Gi"}}}})
    with pytest.raises(ApiException) as caught:
        core.patch_namespaced_persistent_volume_claim("vol", team_ns, {"spec": {"resources": {"requests": {
            "storage": "5Gi"}}}})
    assert caught.value.status == 422
    body = json.loads(caught.value.body)
    assert body["message"] == ('PersistentVolumeClaim "vol" is invalid: spec.resources.requests.storage: '
                               "Forbidden: field can not be less than previous value")
    assert body["details"]["causes"][0] == {"reason": "FieldValueForbidden", "field": "spec.resources.requests.storage",
                                            "message": "Forbidden: field can not be less than previous value"}


def test_patch_with_a_stale_resource_version_is_409(core, team_ns):
    cm = core.create_namespaced_config_map(team_ns, {"metadata": {"name": "cfg"}, "data": {"a": "1"}})
    core.patch_namespaced_config_map("cfg", team_ns, {"data": {"a": "2"}})
    with pytest.raises(ApiException) as caught:
        core.patch_namespaced_config_map("cfg", team_ns, {"metadata": {
            "resourceVersion": cm.metadata.resource_version}, "data": {"a": "3"}})
    assert caught.value.status == 409
    assert json.loads(caught.value.body)["message"] == (
        'Operation cannot be fulfilled on configmaps "cfg": the object has been modified; please apply your '
        "changes to the latest version and try again")


def test_namespace_delete_answers_terminating_and_removes_its_objects(sandbox, core, team_ns):
    core.create_namespaced_config_map(team_ns, {"metadata": {"name": "cfg"}})
    answer = requests.delete(f"{sandbox.url}/api/v1/namespaces/{team_ns}", timeout=5).json()
    assert answer["kind"] == "Namespace" and answer["status"]["phase"] == "Terminating"
    assert sandbox.objects("configmaps", team_ns) == [] and sandbox.object("namespaces", None, team_ns) is None


def test_table_output_for_pods(sandbox, core, team_ns):
    core.create_namespaced_pod(team_ns, {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c",
                                                                                          "image": "busybox"}]}})
    table = requests.get(f"{sandbox.url}/api/v1/namespaces/{team_ns}/pods", timeout=5, headers={
        "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}).json()
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"] if c["priority"] == 0] == [
        "Name", "Ready", "Status", "Restarts", "Age"]
    assert table["rows"][0]["cells"][:3] == ["p", "0/1", "Pending"]
