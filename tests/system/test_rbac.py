"""k8s/: Gantry's own manifests, as `kubectl kustomize` renders each overlay, and its ClusterRole allows
exactly what Gantry does.

The requests Gantry really sends to the sandbox API while it pushes, syncs, reconciles, reads
events and tears down every kind of deployment are mapped to RBAC (group, resource, verb) and
checked against the ClusterRole (k8s/base/rbac.yaml): nothing it needs is missing, nothing granted goes unused.
"""

import re

import pytest

import clusters as cluster
from clusters.watch import WATCHED, ClusterWatch
from deployments.services import lifecycle, push
from deployments.services.reconcile import reconcile
from deployments.services.sync import status_sync
from tests.cluster_helpers import deployment_pushed, wait_for
from tests.factories import batch_spec
from tests.k8s_helpers import OVERLAYS, granted, rendered

PATH_RE = re.compile(r"^/(?:api/v1|apis/(?P<group>[^/]+)/[^/]+)(?:/namespaces/[^/]+)?/(?P<resource>[^/?]+)"
                     r"(?P<name>/[^/?]+)?(?P<sub>/[^/?]+)?")
VERBS = {"GET": "get", "POST": "create", "PATCH": "patch", "PUT": "update", "DELETE": "delete"}


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
            # A watch is a GET of the collection with ?watch=true (the watcher sends watch=1, also true).
            watching = request.method == "GET" and (request.query or {}).get("watch") in ("true", "1")
            verb = "watch" if watching else {"GET": "list"}.get(request.method, VERBS[request.method])
        needed.add((match["group"] or "", resource, verb))
        if "apply-patch" in (request.content_type or ""):
            needed.add((match["group"] or "", resource, "create"))  # apply creates what is missing
    return needed


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_portal_manifest_renders_and_uses_the_service_account(overlay):
    docs = rendered(overlay)
    kinds = {d["kind"] for d in docs}
    assert {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Job",
            "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"} <= kinds
    gantry = [d for d in docs if d["kind"] in ("Deployment", "Job")
              and d["metadata"]["labels"].get("app.kubernetes.io/name") == "gantry"]
    for doc in gantry:
        assert doc["spec"]["template"]["spec"]["serviceAccountName"] == "gantry"
    components = {d["metadata"]["name"] for d in gantry if d["kind"] == "Deployment"}
    assert components == {"gantry-web", "gantry-worker", "gantry-beat", "gantry-watcher"}
    # The credentials Secret is created out of band: an apply must never overwrite it with placeholders.
    secrets = [d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"].startswith("gantry-secrets")]
    assert len(secrets) == {"plain": 0, "demo": 1}[overlay]  # the demo generates its throw-away one


def test_the_role_never_grants_secrets_or_wildcards():
    for group, resource, verb in granted(rendered()):
        assert "*" not in (group, resource, verb)
        assert resource != "secrets"  # workloads reference Secrets; Gantry never reads them


def test_both_overlays_bind_the_same_role_to_the_service_account():
    plain, demo = rendered("plain"), rendered("demo")
    assert granted(plain) == granted(demo)
    [binding] = [d for d in plain if d["kind"] == "ClusterRoleBinding"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "gantry", "namespace": "gantry-system"}]


@pytest.mark.django_db
@pytest.mark.timeout(30)
def test_team_namespaces_need_patch_and_create(sandbox, sandbox_kubeconfig):
    """namespace_ensure applies the namespace server-side: a PATCH that creates it when missing, so the role
    keeps both verbs (the API server checks create as well for an apply that creates)."""
    sandbox.clear_log()
    cluster.namespace_ensure("tenant-rbac")
    cluster.namespace_ensure("tenant-rbac")  # exists now: applied again, still a PATCH
    needed = {n for n in _needed(sandbox.requests) if n[1] == "namespaces"}
    assert needed == {("", "namespaces", "patch"), ("", "namespaces", "create")}
    assert needed <= granted(rendered())


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
    cluster.capacity_read()  # free GPUs: the nodes and their pods
    watch = ClusterWatch(None, resync_seconds=600).start()  # the watcher: each kind listed, then watched
    try:
        wait_for(lambda: len({r.path for r in sandbox.requests if (r.query or {}).get("watch")}) == len(WATCHED),
                 message="a watch of every kind")
    finally:
        watch.stop()
    for deployment in (online, kserve, volume, batch, scheduled):
        deployment.refresh_from_db()
        lifecycle.deployment_teardown(user=deployer, deployment=deployment)
        push.deployment_teardown_run(deployment_id=deployment.pk)

    needed = _needed(sandbox.requests)
    role = granted(rendered())
    assert needed - role == set(), "Gantry needs rights the ClusterRole does not grant"
    assert role - needed == set(), "granted but never used (least privilege)"
