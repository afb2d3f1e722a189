"""Where the cluster watcher runs (issue 17): `make run`'s Procfile, docker-compose.yml and k8s/, each beside the
worker, and the Kubernetes manifests valid for the project's Kubernetes version."""

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.kube_schema import KUBERNETES_VERSION

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
COMMAND = ["python", "manage.py", "watch_clusters"]


def _documents():
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def _deployment(name):
    [doc] = [d for d in _documents() if d["kind"] == "Deployment" and d["metadata"]["name"] == name]
    return doc


@pytest.mark.parametrize("doc", _documents(), ids=lambda d: f"{d['kind']}-{d['metadata']['name']}")
def test_every_manifest_is_valid_kubernetes(doc):
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_one_watcher_runs_like_the_worker_and_is_replaced_not_doubled():
    watcher, worker = _deployment("gantry-watcher"), _deployment("gantry-worker")
    assert watcher["spec"]["replicas"] == 1 and watcher["spec"]["strategy"] == {"type": "Recreate"}
    [run] = watcher["spec"]["template"]["spec"]["containers"]
    [work] = worker["spec"]["template"]["spec"]["containers"]
    assert run["command"] == COMMAND
    assert (run["image"], run["envFrom"]) == (work["image"], work["envFrom"])
    assert watcher["spec"]["template"]["spec"]["serviceAccountName"] == "gantry"


@pytest.mark.parametrize("name", ["gantry-web", "gantry-worker", "gantry-watcher"])
def test_the_clusters_kubeconfigs_are_mounted_read_only_and_may_be_absent(name):
    pod = _deployment(name)["spec"]["template"]["spec"]
    [volume] = [v for v in pod["volumes"] if v.get("secret", {}).get("secretName") == "gantry-clusters"]
    assert volume["secret"]["optional"] is True
    [mount] = [m for c in pod["containers"] for m in c.get("volumeMounts", []) if m["name"] == volume["name"]]
    assert mount == {"name": volume["name"], "mountPath": "/etc/gantry/clusters", "readOnly": True}


def test_the_role_lets_the_watcher_list_and_watch_everywhere_and_read_the_nodes():
    [role] = [d for d in _documents() if d["kind"] == "ClusterRole"]
    [binding] = [d for d in _documents() if d["kind"] == "ClusterRoleBinding"]  # cluster-wide, not per namespace
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    granted = {(group, resource, verb) for rule in role["rules"] for group in rule["apiGroups"]
               for resource in rule["resources"] for verb in rule["verbs"]}
    watched = [("", "pods"), ("serving.knative.dev", "services"), ("serving.knative.dev", "revisions"),
               ("serving.kserve.io", "inferenceservices"), ("argoproj.io", "workflows"),
               ("argoproj.io", "cronworkflows")]
    assert {(g, r, v) for g, r in watched for v in ("list", "watch")} <= granted
    assert ("", "nodes", "list") in granted
    assert not {(g, r, v) for g, r, v in granted if r == "nodes" and v != "list"}


def test_compose_and_the_procfile_run_the_watcher_beside_beat():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert compose["watcher"]["command"].split() == COMMAND
    assert {k: v for k, v in compose["watcher"].items() if k != "command"} == {
        k: v for k, v in compose["worker"].items() if k != "command"}
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert procfile["watcher"] == ".venv/bin/python manage.py watch_clusters"
    assert "beat" in procfile  # reconcile and the other periodic tasks stay on beat
