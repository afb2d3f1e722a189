"""Where the cluster watcher runs (issue 17): `make run`'s Procfile, docker-compose.yml and k8s/ (both kustomize
overlays), each beside the worker, and the rendered Kubernetes manifests valid for the project's Kubernetes
version."""

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.k8s_helpers import OVERLAYS, granted, one, rendered
from tests.kube_schema import KUBERNETES_VERSION

ROOT = Path(__file__).resolve().parents[2]
COMMAND = ["python", "manage.py", "watch_clusters"]


def _deployment(name, overlay="plain"):
    return one(rendered(overlay), "Deployment", name)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_manifest_is_valid_kubernetes(overlay):
    docs = rendered(overlay)
    assert len(docs) > 10
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{overlay}: {doc['kind']} {doc['metadata']['name']}: {exc}")


def test_one_watcher_runs_like_the_worker_and_is_replaced_not_doubled():
    watcher, worker = _deployment("gantry-watcher"), _deployment("gantry-worker")
    assert watcher["spec"]["replicas"] == 1 and watcher["spec"]["strategy"] == {"type": "Recreate"}
    [run] = watcher["spec"]["template"]["spec"]["containers"]
    [work] = worker["spec"]["template"]["spec"]["containers"]
    assert run["command"] == COMMAND
    assert (run["image"], run["envFrom"]) == (work["image"], work["envFrom"])
    assert watcher["spec"]["template"]["spec"]["serviceAccountName"] == "gantry"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", ["gantry-web", "gantry-worker", "gantry-watcher"])
def test_the_clusters_kubeconfigs_are_mounted_read_only_and_may_be_absent(name, overlay):
    pod = _deployment(name, overlay)["spec"]["template"]["spec"]
    [volume] = [v for v in pod["volumes"] if v.get("secret", {}).get("secretName") == "gantry-clusters"]
    assert volume["secret"]["optional"] is True
    [mount] = [m for c in pod["containers"] for m in c.get("volumeMounts", []) if m["name"] == volume["name"]]
    assert mount == {"name": volume["name"], "mountPath": "/etc/gantry/clusters", "readOnly": True}


def test_the_role_lets_the_watcher_list_and_watch_everywhere_and_read_the_nodes():
    docs = rendered()
    role = one(docs, "ClusterRole")
    binding = one(docs, "ClusterRoleBinding")  # cluster-wide, not per namespace
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    rights = granted(docs)
    watched = [("", "pods"), ("serving.knative.dev", "services"), ("serving.knative.dev", "revisions"),
               ("serving.kserve.io", "inferenceservices"), ("argoproj.io", "workflows"),
               ("argoproj.io", "cronworkflows")]
    assert {(g, r, v) for g, r in watched for v in ("list", "watch")} <= rights
    assert ("", "nodes", "list") in rights
    assert not {(g, r, v) for g, r, v in rights if r == "nodes" and v != "list"}


def test_compose_and_the_procfile_run_the_watcher_beside_beat():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert compose["watcher"]["command"].split() == COMMAND
    # The same image, settings, volumes and dependencies; each has its own healthcheck (tests/system/test_compose.py).
    own = ("command", "healthcheck")
    assert {k: v for k, v in compose["watcher"].items() if k not in own} == {
        k: v for k, v in compose["worker"].items() if k not in own}
    assert compose["watcher"]["healthcheck"] != compose["worker"]["healthcheck"]
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert procfile["watcher"] == ".venv/bin/python manage.py watch_clusters"
    assert "beat" in procfile  # reconcile and the other periodic tasks stay on beat
