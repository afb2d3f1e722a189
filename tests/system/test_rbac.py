"""k8s/: Gantry's own manifests parse, and its ClusterRole allows exactly what Gantry does.

The requests Gantry really sends to the sandbox API while it pushes, syncs, reconciles, reads
events and tears down every kind of deployment are mapped to RBAC (group, resource, verb) and
checked against k8s/10-rbac.yaml: nothing it needs is missing, nothing granted goes unused.
"""

import re
from pathlib import Path

import pytest
import yaml

import clusters as cluster
from deployments.services import lifecycle, push
from deployments.services.reconcile import reconcile
from deployments.services.sync import status_sync
from tests.cluster_helpers import deployment_pushed
from tests.factories import batch_spec

K8S = Path(__file__).resolve().parents[2] / "k8s"
PATH_RE = re.compile(r"^/(?:api/v1|apis/(?P<group>[^/]+)/[^/]+)(?:/namespaces/[^/]+)?/(?P<resource>[^/?]+)"
                     r"(?P<name>/[^/?]+)?(?P<sub>/[^/?]+)?")
VERBS = {"GET": "get", "POST": "create", "PATCH": "patch", "PUT": "update", "DELETE": "delete"}


def _documents():
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def _granted():
    [role] = [d for d in _documents() if d["kind"] == "ClusterRole"]
    return {(group, resource, verb) for rule in role["rules"] for group in rule["apiGroups"]
            for resource in rule["resources"] for verb in rule["verbs"]}


def _needed(requests):
    needed = set()
    for request in requests:
        path = request.path
        if path.startswith(("/version", "/metrics/")):
            continue  # the version check, and the session's Prometheus scraping the sandbox: no RBAC
        match = PATH_RE.match(path)
        assert match, f"unexpected API path {path}"
        resource = match["resource"] + (match["sub"] or "")  # pods/log is its own RBAC resource
        if resource == "namespaces" and match["name"]:
            verb = VERBS[request.method]
        elif match["name"]:
            verb = VERBS[request.method]
        else:
            verb = "watch" if "watch=true" in (request.query or "") else {"GET": "list"}.get(request.method,
                                                                                              VERBS[request.method])
        needed.add((match["group"] or "", resource, verb))
        if "apply-patch" in (request.content_type or ""):
            needed.add((match["group"] or "", resource, "create"))  # apply creates what is missing
    return needed


def test_every_portal_manifest_parses_and_uses_the_service_account():
    docs = _documents()
    kinds = {d["kind"] for d in docs}
    assert {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Secret", "Job",
            "Deployment", "Service"} <= kinds
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            assert doc["spec"]["template"]["spec"]["serviceAccountName"] == "gantry"
    components = {d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"}
    assert components == {"gantry-web", "gantry-worker", "gantry-beat"}


def test_the_role_never_grants_secrets_or_wildcards():
    for group, resource, verb in _granted():
        assert "*" not in (group, resource, verb)
        assert resource != "secrets"  # workloads reference Secrets; Gantry never reads them


@pytest.mark.django_db
@pytest.mark.timeout(60)
def test_the_role_covers_exactly_what_gantry_does(sandbox, sandbox_kubeconfig, deployer):
    sandbox.clear_log()
    online = deployment_pushed(deployer, name="chat")
    kserve = deployment_pushed(deployer, name="sentiment", target="kserve")
    volume = deployment_pushed(deployer, name="big", target="kserve",
                               model={"uri": "pvc://models/llama/model.tensors", "parameters_billions": 8,
                                      "precision": "bf16", "format": "tensorizer"},
                               storage={"tier": "nvme-pvc", "pvc_size_gi": 100})
    batch = deployment_pushed(deployer, name="nightly", batch=True)
    scheduled = lifecycle.deployment_create(user=deployer, spec=batch_spec(name="hourly", batch={
        "inputs_uri": "s3://data/in/", "outputs_uri": "s3://data/out/", "schedule": "@hourly"}))
    assert push.deployment_push(deployment_id=scheduled.pk, revision=1)
    sandbox.simulator.tick()
    status_sync()
    reconcile()
    cluster.events_list("tenant-nlp", "chat")
    sandbox.simulator.advance(300)  # past the start-up: a log to read
    sandbox.simulator.tick()
    pod = next(p for p in cluster.deployment_pods_list("tenant-nlp", "chat") if p["ready"])
    cluster.pod_logs("tenant-nlp", pod["name"], container="model", tail=10)
    list(cluster.pod_logs_follow("tenant-nlp", pod["name"], container="model", tail=1, seconds=0.5))
    for deployment in (online, kserve, volume, batch, scheduled):
        deployment.refresh_from_db()
        lifecycle.deployment_teardown(user=deployer, deployment=deployment)
        push.deployment_teardown_run(deployment_id=deployment.pk)

    needed = _needed(sandbox.requests)
    granted = _granted()
    assert needed - granted == set(), "Gantry needs rights the ClusterRole does not grant"
    assert granted - needed == set(), "granted but never used (least privilege)"
