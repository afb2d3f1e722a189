"""The real kubectl (v1.32) against `python -m sandbox`: what a user types, and what they see."""

import json
import re
import subprocess
import time

import pytest

from .conftest import output_until, table_rows

pytestmark = pytest.mark.timeout(60)

NAMESPACE = """
apiVersion: v1
kind: Namespace
metadata: {name: NS}
"""
CONFIGMAP = """
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: NS}
data: {mode: MODE}
"""
CLAIM = """
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: weights, namespace: NS}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: SIZE}}
"""
KSVC = """
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: chat
  namespace: NS
  annotations: {sandbox.gantry.io/traffic: steady, sandbox.gantry.io/startup-seconds: "5"}
spec:
  template:
    metadata:
      annotations: {autoscaling.knative.dev/min-scale: "1", autoscaling.knative.dev/max-scale: "1"}
    spec:
      containers: [{image: IMAGE}]
"""
ISVC = """
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: llama
  namespace: NS
  annotations: {sandbox.gantry.io/startup-seconds: "5"}
spec:
  predictor:
    minReplicas: 1
    maxReplicas: 1
    model:
      modelFormat: {name: huggingface}
      storageUri: hf://meta/llama
"""
WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: batch
  namespace: NS
  annotations: {sandbox.gantry.io/shard-seconds: "5"}
spec:
  entrypoint: run
  podGC: {strategy: OnPodSuccess}
  templates:
    - name: run
      container: {image: busybox, command: [echo, hi]}
"""


def _manifest(text, **values):
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def _namespace(kubectl, name):
    kubectl("apply", "--server-side", "-f", "-", stdin=_manifest(NAMESPACE, NS=name))
    return name


def _first_running_pod(kubectl, ns):
    """Watch the namespace's pods (`get -w`) until one is Running; its name."""
    watch = subprocess.Popen([*kubectl.base, "get", "pods", "-n", ns, "-w", "--request-timeout=20s"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0)
    try:
        lines = output_until(watch, " Running ", seconds=15)
    finally:
        watch.kill()
        watch.communicate()
    return lines[-1].split()[0]


def _wait_pods_gone(kubectl, ns, names):
    """`kubectl wait --for=delete` on the pods seen, then nothing is left in the namespace."""
    if names:
        kubectl("wait", "--for=delete", *(f"pod/{n}" for n in names), "-n", ns, "--timeout=15s")
    _assert_no_pods(kubectl, ns)


def test_discovery_lists_core_and_crd_resources_with_short_names(kubectl):
    out = kubectl("api-resources").stdout
    rows = {(r["NAME"], r["APIVERSION"]): r for r in table_rows(out)}
    for name, version, short in [("pods", "v1", "po"), ("persistentvolumeclaims", "v1", "pvc"),
                                 ("configmaps", "v1", "cm"), ("events", "v1", "ev"), ("namespaces", "v1", "ns"),
                                 ("services", "serving.knative.dev/v1", "kservice,ksvc"),
                                 ("revisions", "serving.knative.dev/v1", "rev"),
                                 ("routes", "serving.knative.dev/v1", "rt"),
                                 ("inferenceservices", "serving.kserve.io/v1beta1", "isvc"),
                                 ("workflows", "argoproj.io/v1alpha1", "wf")]:
        assert rows[(name, version)]["SHORTNAMES"] == short
    assert rows[("namespaces", "v1")]["NAMESPACED"] == "false"
    assert "serving.knative.dev/v1" in kubectl("api-versions").stdout.split()
    assert kubectl("get", "--raw", "/readyz").stdout == "ok"


def test_get_namespaces_shows_status_and_age(kubectl):
    rows = table_rows(kubectl("get", "ns").stdout)
    assert {"NAME": "default", "STATUS": "Active"}.items() <= rows[0].items()
    assert list(rows[0]) == ["NAME", "STATUS", "AGE"]


def test_configmap_client_side_apply_create_configure_unchanged_delete(kubectl):
    ns = _namespace(kubectl, "cfg")
    assert kubectl("apply", "-f", "-", stdin=_manifest(CONFIGMAP, NS=ns, MODE="fast")).stdout.strip() == \
        "configmap/settings created"
    assert kubectl("apply", "-f", "-", stdin=_manifest(CONFIGMAP, NS=ns, MODE="fast")).stdout.strip() == \
        "configmap/settings unchanged"
    assert kubectl("apply", "-f", "-", stdin=_manifest(CONFIGMAP, NS=ns, MODE="slow")).stdout.strip() == \
        "configmap/settings configured"
    [row] = table_rows(kubectl("get", "cm", "-n", ns).stdout)
    assert (row["NAME"], row["DATA"]) == ("settings", "1")
    assert kubectl("get", "cm", "settings", "-n", ns, "-o", "jsonpath={.data.mode}").stdout == "slow"
    assert kubectl("delete", "cm", "settings", "-n", ns).stdout.strip() == 'configmap "settings" deleted'
    missing = kubectl("get", "cm", "settings", "-n", ns, check=False)
    assert missing.returncode == 1
    assert 'configmaps "settings" not found' in missing.stderr


def test_pvc_server_side_apply_and_a_shrink_is_refused(kubectl):
    ns = _namespace(kubectl, "vol")
    out = kubectl("apply", "--server-side", "-f", "-", stdin=_manifest(CLAIM, NS=ns, SIZE="10Gi")).stdout
    assert out.strip() == "persistentvolumeclaim/weights serverside-applied"
    [row] = table_rows(kubectl("get", "pvc", "-n", ns).stdout)
    assert row["NAME"] == "weights"
    assert list(row) == ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS",
                         "VOLUMEATTRIBUTESCLASS", "AGE"]
    kubectl("apply", "--server-side", "-f", "-", stdin=_manifest(CLAIM, NS=ns, SIZE="20Gi"))
    shrink = kubectl("apply", "--server-side", "-f", "-", stdin=_manifest(CLAIM, NS=ns, SIZE="5Gi"), check=False)
    assert shrink.returncode == 1
    assert ('PersistentVolumeClaim "weights" is invalid: spec.resources.requests.storage: Forbidden: '
            "field can not be less than previous value") in shrink.stderr
    assert kubectl("get", "pvc", "weights", "-n", ns, "-o",
                   "jsonpath={.spec.resources.requests.storage}").stdout == "20Gi"


def test_stale_resource_version_is_a_conflict(kubectl):
    ns = _namespace(kubectl, "stale")
    kubectl("create", "configmap", "cfg", "-n", ns, "--from-literal=a=1")
    obj = json.loads(kubectl("get", "cm", "cfg", "-n", ns, "-o", "json").stdout)
    kubectl("patch", "cm", "cfg", "-n", ns, "-p", '{"data":{"a":"2"}}')
    obj["data"] = {"a": "3"}
    replaced = kubectl("replace", "-f", "-", stdin=json.dumps(obj), check=False)
    assert replaced.returncode == 1
    assert ('Operation cannot be fulfilled on configmaps "cfg": the object has been modified; '
            "please apply your changes to the latest version and try again") in replaced.stderr


def test_explain_reads_the_openapi_of_builtin_kinds_and_crds(kubectl):
    pod = kubectl("explain", "pods.spec.containers.image").stdout
    assert "KIND:       Pod" in pod and "FIELD: image <string>" in pod
    ksvc = kubectl("explain", "ksvc.spec.template").stdout
    assert "GROUP:      serving.knative.dev" in ksvc and "KIND:       Service" in ksvc
    isvc = kubectl("explain", "isvc.spec.predictor.minReplicas").stdout
    assert "FIELD: minReplicas <integer>" in isvc
    assert "FIELD: podGC <Object>" in kubectl("explain", "workflows.spec.podGC").stdout


@pytest.mark.parametrize("verb, resource", [("create", "pods"), ("delete", "inferenceservices"),
                                            ("list", "workflows"), ("get", "ksvc")])
def test_auth_can_i_answers_yes(kubectl, verb, resource):
    assert kubectl("auth", "can-i", verb, resource, "-n", "default").stdout.strip() == "yes"


def test_knative_service_pods_logs_wait_describe_and_delete(kubectl):
    ns = _namespace(kubectl, "serving")
    out = kubectl("apply", "--server-side", "-f", "-", stdin=_manifest(KSVC, NS=ns, IMAGE="ghcr.io/example/llm:1"))
    assert out.stdout.strip() == "service.serving.knative.dev/chat serverside-applied"
    assert kubectl("wait", "--for=condition=Ready", "ksvc/chat", "-n", ns, "--timeout=15s").stdout.strip() == \
        "service.serving.knative.dev/chat condition met"
    [svc] = table_rows(kubectl("get", "ksvc", "-n", ns).stdout)
    assert svc == {"NAME": "chat", "URL": f"http://chat.{ns}.example.com", "LATESTCREATED": "chat-00001",
                   "LATESTREADY": "chat-00001", "READY": "True", "REASON": ""}
    name = _first_running_pod(kubectl, ns)
    [pod] = [r for r in table_rows(kubectl("get", "pods", "-n", ns).stdout) if r["NAME"] == name]
    assert name.startswith("chat-00001-deployment-") and (pod["READY"], pod["STATUS"]) == ("1/1", "Running")
    log = kubectl("logs", "-n", ns, name).stdout
    assert "ghcr.io/example/llm:1" in log
    described = kubectl("describe", "pod", name, "-n", ns).stdout
    assert "Status:           Running" in described or "Status:         Running" in described
    names = kubectl("get", "pods", "-n", ns, "-o", "jsonpath={.items[*].metadata.name}").stdout.split()
    assert kubectl("delete", "ksvc", "chat", "-n", ns).stdout.strip() == 'service.serving.knative.dev "chat" deleted'
    _wait_pods_gone(kubectl, ns, names)


def _assert_no_pods(kubectl, ns):
    result = kubectl("get", "pods", "-n", ns)
    assert result.stdout == "" and f"No resources found in {ns} namespace." in result.stderr


def test_get_watch_streams_rows_until_the_request_timeout(kubectl):
    ns = _namespace(kubectl, "watching")
    kubectl("create", "configmap", "first", "-n", ns)
    start = time.monotonic()
    watch = subprocess.Popen([*kubectl.base, "get", "cm", "-n", ns, "-w", "--request-timeout=4s"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
    try:
        seen = output_until(watch, "first", seconds=10)  # the watch is open: the existing row came
        kubectl("create", "configmap", "second", "-n", ns)
        rest, _ = watch.communicate(timeout=15)
    finally:
        watch.kill()
    out = "".join(seen) + rest.decode()
    assert time.monotonic() - start < 15
    assert [r["NAME"] for r in table_rows(out)] == ["first", "second"]
    assert list(table_rows(out)[0]) == ["NAME", "DATA", "AGE"]


def test_namespace_delete_removes_its_objects(kubectl):
    ns = _namespace(kubectl, "doomed")
    kubectl("create", "configmap", "cfg", "-n", ns)
    assert kubectl("delete", "ns", ns, "--timeout=15s").stdout.strip() == f'namespace "{ns}" deleted'
    assert kubectl("get", "ns", ns, check=False).returncode == 1
    assert ns not in kubectl("get", "cm", "-A", "-o", "jsonpath={.items[*].metadata.namespace}").stdout.split()
    refused = kubectl("delete", "ns", "default", check=False)
    assert 'namespaces "default" is forbidden: this namespace may not be deleted' in refused.stderr


def test_each_knative_service_generation_gets_a_revision_and_the_route_follows(kubectl):
    ns = _namespace(kubectl, "revs")
    kubectl("apply", "--server-side", "-f", "-", stdin=_manifest(KSVC, NS=ns, IMAGE="ghcr.io/example/llm:1"))
    kubectl("wait", "--for=condition=Ready", "ksvc/chat", "-n", ns, "--timeout=15s")
    kubectl("apply", "--server-side", "-f", "-", stdin=_manifest(KSVC, NS=ns, IMAGE="ghcr.io/example/llm:2"))
    kubectl("wait", "--for=jsonpath={.status.latestReadyRevisionName}=chat-00002", "ksvc/chat", "-n", ns,
            "--timeout=15s")
    revisions = table_rows(kubectl("get", "rev", "-n", ns).stdout)
    assert [(r["NAME"], r["CONFIG NAME"], r["GENERATION"]) for r in revisions] == [
        ("chat-00001", "chat", "1"), ("chat-00002", "chat", "2")]
    assert kubectl("get", "rev", "chat-00002", "-n", ns, "-o",
                   "jsonpath={.spec.containers[0].image}").stdout == "ghcr.io/example/llm:2"
    [route] = table_rows(kubectl("get", "rt", "-n", ns).stdout)
    assert (route["NAME"], route["URL"], route["READY"]) == ("chat", f"http://chat.{ns}.example.com", "True")
    traffic = json.loads(kubectl("get", "ksvc", "chat", "-n", ns, "-o", "jsonpath={.status.traffic}").stdout)
    assert traffic == [{"revisionName": "chat-00002", "latestRevision": True, "percent": 100}]
    assert re.search(r"Latest Ready Revision Name:\s+chat-00002", kubectl("describe", "ksvc", "chat", "-n", ns).stdout)
    kubectl("delete", "ksvc", "chat", "-n", ns)
    assert kubectl("get", "rev,rt,configurations", "-n", ns, "-o", "name").stdout == ""


def test_inference_service_becomes_ready(kubectl):
    ns = _namespace(kubectl, "kserve")
    out = kubectl("apply", "--server-side", "-f", "-", stdin=_manifest(ISVC, NS=ns)).stdout
    assert out.strip() == "inferenceservice.serving.kserve.io/llama serverside-applied"
    kubectl("wait", "--for=condition=Ready", "isvc/llama", "-n", ns, "--timeout=15s")
    [row] = table_rows(kubectl("get", "isvc", "-n", ns).stdout)
    assert (row["NAME"], row["URL"], row["READY"]) == ("llama", f"http://llama.{ns}.example.com", "True")
    assert list(row)[:3] == ["NAME", "URL", "READY"] and list(row)[-1] == "AGE"
    [predictor] = table_rows(kubectl("get", "ksvc", "-n", ns).stdout)  # Serverless mode: KServe's Knative Service
    assert (predictor["NAME"], predictor["LATESTREADY"]) == ("llama-predictor", "llama-predictor-00001")
    pods = table_rows(kubectl("get", "pods", "-n", ns, "-l", "serving.kserve.io/inferenceservice=llama").stdout)
    assert len(pods) == 1 and pods[0]["NAME"].startswith("llama-predictor-00001-deployment-")


def test_workflow_runs_to_success_and_pod_gc_removes_its_pods(kubectl):
    ns = _namespace(kubectl, "batch")
    assert kubectl("apply", "--server-side", "-f", "-", stdin=_manifest(WORKFLOW, NS=ns)).stdout.strip() == \
        "workflow.argoproj.io/batch serverside-applied"
    kubectl("wait", "--for=jsonpath={.status.phase}=Succeeded", "wf/batch", "-n", ns, "--timeout=15s")
    [row] = table_rows(kubectl("get", "wf", "-n", ns).stdout)
    assert (row["NAME"], row["STATUS"]) == ("batch", "Succeeded") and list(row) == ["NAME", "STATUS", "AGE", "MESSAGE"]
    names = kubectl("get", "pods", "-n", ns, "-o", "jsonpath={.items[*].metadata.name}").stdout.split()
    _wait_pods_gone(kubectl, ns, names)  # podGC OnPodSuccess
    events = table_rows(kubectl("get", "events", "-n", ns).stdout)
    assert list(events[0]) == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert ("WorkflowSucceeded", "workflow/batch") in {(e["REASON"], e["OBJECT"]) for e in events}
