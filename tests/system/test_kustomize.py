"""k8s/ as kustomize: a base and two overlays (plain, demo) that the real kubectl renders; one version, host and
registry set once in the overlay reach every image, the migration Job's name and the probes; every pod hardened;
probes on /livez and /readyz the portal answers as the kubelet asks; a PodDisruptionBudget and NetworkPolicies.
(test_rbac.py checks the role, test_watcher_deployment.py the watcher and the Kubernetes schema.)"""

import shutil
import tomllib

import pytest
import yaml

from tests.k8s_helpers import K8S, OVERLAYS, ROOT, one, pod_specs, render, rendered

REGISTRY = "ghcr.io/example/gantry"


def _version(docs):
    return one(docs, "ConfigMap", "gantry-config")["metadata"]["labels"]["app.kubernetes.io/version"]


def _gantry(docs):
    """Gantry's own Deployments and Job (not the demo's sandbox, PostgreSQL and Redis)."""
    return [(d, pod) for d, pod in pod_specs(docs) if d["metadata"]["labels"]["app.kubernetes.io/name"] == "gantry"]


def _containers(pod):
    return pod["containers"] + pod.get("initContainers", [])


def _web_probes(docs):
    [web] = one(docs, "Deployment", "gantry-web")["spec"]["template"]["spec"]["containers"]
    return {kind: web[kind]["httpGet"] for kind in ("startupProbe", "livenessProbe", "readinessProbe")}


def test_the_plain_overlay_runs_this_checkouts_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert _version(rendered("plain")) == project["version"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_version_names_every_image_and_the_migration_job(overlay):
    docs = rendered(overlay)
    version = _version(docs)
    images = {c["image"] for _, pod in _gantry(docs) for c in _containers(pod)}
    assert images == {f"{REGISTRY}:{version}"}
    [job] = [d for d in docs if d["kind"] == "Job"]
    assert job["metadata"]["name"] == f"gantry-migrate-{version}"  # a new version, a new Job
    if overlay == "demo":
        [sandbox] = one(docs, "Deployment", "gantry-sandbox")["spec"]["template"]["spec"]["containers"]
        assert sandbox["image"] == f"{REGISTRY}-sandbox:{version}"


def test_a_site_sets_version_registry_and_host_once(tmp_path):
    """What README tells an operator to do: copy the plain overlay and edit its marked lines."""
    site = tmp_path / "k8s"
    shutil.copytree(K8S, site)
    kustomization = site / "overlays" / "plain" / "kustomization.yaml"
    text = kustomization.read_text()
    text = text.replace('app.kubernetes.io/version: "0.1.0"', 'app.kubernetes.io/version: "2.3.4"')
    kustomization.write_text(text.replace(f"newName: {REGISTRY}", "newName: registry.local:5000/ml/gantry"))
    config = site / "overlays" / "plain" / "config.yaml"
    config.write_text(config.read_text().replace('ALLOWED_HOSTS: "gantry.example.com"',
                                                 'ALLOWED_HOSTS: "portal.acme.io,gantry.acme.io"'))

    docs = render(site / "overlays" / "plain")

    assert {c["image"] for _, pod in _gantry(docs) for c in _containers(pod)} == {
        "registry.local:5000/ml/gantry:2.3.4"}
    assert [d["metadata"]["name"] for d in docs if d["kind"] == "Job"] == ["gantry-migrate-2.3.4"]
    for probe in _web_probes(docs).values():
        assert {"name": "Host", "value": "portal.acme.io"} in probe["httpHeaders"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_hardened(overlay):
    docs = rendered(overlay)
    namespace = one(docs, "Namespace")
    # The API server itself refuses pods that are not (Pod Security Standards, "restricted").
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for doc, pod in pod_specs(docs):
        name = doc["metadata"]["name"]
        security = pod["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] != 0, name
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert not {"hostNetwork", "hostPID", "hostIPC"} & pod.keys(), name
        assert all("hostPath" not in volume for volume in pod.get("volumes", [])), name
        for container in _containers(pod):
            assert container["securityContext"] == {
                "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]}}, (name, container["name"])
            assert container["resources"]["limits"]["memory"], (name, container["name"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_gantrys_pods_write_only_to_an_empty_tmp(overlay):
    for doc, pod in _gantry(rendered(overlay)):
        volumes = {v["name"]: v for v in pod["volumes"]}
        for container in _containers(pod):
            [tmp] = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert "emptyDir" in volumes[tmp["name"]], doc["metadata"]["name"]
            assert all(m.get("readOnly") for m in container["volumeMounts"] if m is not tmp)


def test_only_the_pods_that_call_a_cluster_get_a_token():
    for doc, pod in _gantry(rendered()):
        component = doc["metadata"]["labels"]["app.kubernetes.io/component"]
        assert pod.get("automountServiceAccountToken", True) is (component in ("web", "worker", "watcher"))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_deployment_waits_for_its_versions_migrations(overlay):
    docs = rendered(overlay)
    [job] = [d for d in docs if d["kind"] == "Job"]
    [migrate] = job["spec"]["template"]["spec"]["containers"]
    assert "migrate" in " ".join(migrate["command"])
    for doc, pod in _gantry(docs):
        if doc["kind"] != "Deployment":
            continue
        [wait] = pod["initContainers"]
        assert "manage.py migrate --check" in wait["command"][-1] and wait["image"] == migrate["image"]
        assert wait["envFrom"] == migrate["envFrom"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_is_probed_on_livez_and_readyz_with_the_sites_host(overlay):
    docs = rendered(overlay)
    first_host = one(docs, "ConfigMap", "gantry-config")["data"]["ALLOWED_HOSTS"].split(",")[0]
    probes = _web_probes(docs)
    assert {kind: probe["path"] for kind, probe in probes.items()} == {
        "startupProbe": "/livez", "livenessProbe": "/livez", "readinessProbe": "/readyz"}
    for probe in probes.values():
        assert probe["port"] == "http"
        assert probe["httpHeaders"] == [{"name": "Host", "value": first_host},
                                        {"name": "X-Forwarded-Proto", "value": "https"}]


@pytest.mark.django_db
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_portal_answers_the_web_probes_as_the_kubelet_sends_them(overlay, client, settings):
    config = one(rendered(overlay), "ConfigMap", "gantry-config")["data"]
    settings.ALLOWED_HOSTS = config["ALLOWED_HOSTS"].split(",")
    settings.SECURE_SSL_REDIRECT = config["SECURE_HTTPS"] == "1"
    settings.KUBECONFIG = ""  # no cluster here: readiness does not depend on one
    for kind, probe in _web_probes(rendered(overlay)).items():
        headers = {h["name"].replace("-", "_").upper(): h["value"] for h in probe["httpHeaders"]}
        response = client.get(probe["path"], HTTP_HOST=headers["HOST"],
                              HTTP_X_FORWARDED_PROTO=headers["X_FORWARDED_PROTO"])
        assert response.status_code == 200, (kind, response.status_code)
    # Without the host header, as a bare kubelet request to the pod's address would come, Django refuses it.
    assert client.get("/livez", HTTP_HOST="10.1.2.3:8000").status_code == 400


def test_the_worker_and_the_watcher_have_liveness_probes():
    docs = rendered()
    [worker] = one(docs, "Deployment", "gantry-worker")["spec"]["template"]["spec"]["containers"]
    ping = worker["livenessProbe"]["exec"]["command"]
    assert ping[:2] == ["sh", "-c"] and 'celery -A portal inspect ping -d "celery@$HOSTNAME"' in ping[2]
    [watcher] = one(docs, "Deployment", "gantry-watcher")["spec"]["template"]["spec"]["containers"]
    for kind in ("startupProbe", "livenessProbe"):
        assert "/tmp/gantry-watcher-heartbeat" in watcher[kind]["exec"]["command"][2]


def test_a_disruption_budget_keeps_web_serving_during_a_drain():
    docs = rendered()
    web = one(docs, "Deployment", "gantry-web")
    budget = one(docs, "PodDisruptionBudget", "gantry-web")
    assert budget["spec"]["selector"] == web["spec"]["selector"]
    assert budget["spec"]["maxUnavailable"] == 1 < web["spec"]["replicas"]
    assert web["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}


def _selects(selector, labels):
    expressions = selector.get("matchExpressions", [])
    return (selector.get("matchLabels", {}).items() <= labels.items()
            and all(labels.get(e["key"]) in e["values"] for e in expressions if e["operator"] == "In"))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_let_in_only_web_traffic_and_gantrys_own_pods(overlay):
    docs = rendered(overlay)
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    pods = {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"] for d, _ in pod_specs(docs)}
    deny = one(docs, "NetworkPolicy", "gantry-deny-ingress")
    assert "ingress" not in deny["spec"] and deny["spec"]["policyTypes"] == ["Ingress"]
    assert all(_selects(deny["spec"]["podSelector"], labels) for labels in pods.values())  # nothing left open
    open_to = {name: [p for p in policies if p is not deny and _selects(p["spec"]["podSelector"], labels)]
               for name, labels in pods.items()}
    [web] = open_to["gantry-web"]
    assert web["spec"]["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}]}]
    for name in ("gantry-worker", "gantry-beat", "gantry-watcher", f"gantry-migrate-{_version(docs)}"):
        assert open_to[name] == [], name
    if overlay == "demo":
        for name in ("gantry-sandbox", "gantry-postgres", "gantry-redis"):
            [policy] = open_to[name]
            [rule] = policy["spec"]["ingress"]
            assert rule["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gantry"}}}]


def test_the_demo_deploys_to_its_sandbox_and_seeds_only_there():
    docs = rendered("demo")
    kubeconfig_path = one(docs, "ConfigMap", "gantry-config")["data"]["KUBECONFIG"]
    [kubeconfig_map] = [d for d in docs if d["kind"] == "ConfigMap"
                        and d["metadata"]["name"].startswith("gantry-sandbox-kubeconfig")]
    kubeconfig = yaml.safe_load(kubeconfig_map["data"]["kubeconfig"])
    [cluster] = kubeconfig["clusters"]
    service = one(docs, "Service", "gantry-sandbox")
    assert cluster == {"name": "gantry-sandbox", "cluster": {"server": "http://gantry-sandbox.gantry-system.svc:8001"}}
    assert service["spec"]["ports"][0]["port"] == 8001
    for doc, pod in _gantry(docs):
        volumes = {v["name"]: v for v in pod["volumes"]}
        [mount] = [m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == "/etc/gantry/sandbox"]
        assert volumes[mount["name"]]["configMap"]["name"] == kubeconfig_map["metadata"]["name"]
        assert kubeconfig_path == f"{mount['mountPath']}/kubeconfig", doc["metadata"]["name"]
    [job] = [d for d in docs if d["kind"] == "Job"]
    assert "manage.py seed_demo" in job["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    [sandbox] = one(docs, "Deployment", "gantry-sandbox")["spec"]["template"]["spec"]["containers"]
    assert sandbox["command"][:3] == ["python", "-m", "sandbox"]


def test_the_plain_install_uses_its_service_account_and_seeds_nothing():
    docs = rendered("plain")
    assert "KUBECONFIG" not in one(docs, "ConfigMap", "gantry-config")["data"]  # in-cluster configuration
    [job] = [d for d in docs if d["kind"] == "Job"]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "python", "manage.py", "migrate", "--noinput"]
    assert not [d for d in docs if "sandbox" in d["metadata"]["name"]]


def test_the_readme_install_waits_for_the_job_the_overlay_renders():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Installing Gantry on a cluster with kustomize"):]
    assert f"job/gantry-migrate-{_version(rendered('plain'))} " in section
    assert "kubectl apply -k k8s/overlays/demo" in section
    kustomization = (K8S / "overlays" / "plain" / "kustomization.yaml").read_text()
    edits = [line for line in kustomization.splitlines() if "# EDIT:" in line]
    assert len(edits) == 3 and any("version" in e for e in edits) and any("registry" in e for e in edits)
