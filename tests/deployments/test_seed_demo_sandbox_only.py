"""seed_demo deploys the demo only to a sandbox: a kubeconfig of a real cluster (mounted into docker-compose, set as
KUBECONFIG, named by --second-cluster or a Cluster record) or the pod's own service account stops it before it
writes anything, saying which and how to fix it."""

from pathlib import Path
from unittest import mock

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from clusters.models import Cluster
from deployments.management.commands import seed_demo
from deployments.models import Deployment
from sandbox.harness import kubeconfig_write

pytestmark = pytest.mark.django_db
DEMO_OVERLAY_KUBECONFIG = Path(__file__).resolve().parents[2] / "k8s" / "overlays" / "demo" / "kubeconfig"


def _kubeconfig(path, *clusters, current=None):
    """A kubeconfig with one context per cluster name, like the ones on a laptop."""
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": c, "cluster": {"server": f"https://{c}.example.com"}} for c in clusters],
        "users": [{"name": "me", "user": {"token": "t"}}],
        "contexts": [{"name": f"ctx-{c}", "context": {"cluster": c, "user": "me"}} for c in clusters],
        "current-context": f"ctx-{current or clusters[0]}"}))
    return str(path)


def _refused(*args):
    with pytest.raises(CommandError) as refused:
        call_command("seed_demo", *args)
    assert not Deployment.objects.exists()
    assert "--no-deployments" in str(refused.value)
    return str(refused.value)


@pytest.mark.parametrize("written_by", ["the sandbox", "the demo overlay"])
def test_a_sandbox_kubeconfig_is_seeded(dispatched, settings, tmp_path, written_by):
    settings.KUBECONFIG = (kubeconfig_write(str(tmp_path / "kubeconfig"), "http://127.0.0.1:1")
                           if written_by == "the sandbox" else str(DEMO_OVERLAY_KUBECONFIG))
    call_command("seed_demo")
    assert Deployment.objects.filter(team__slug="demo").count() == 4


def test_a_real_clusters_kubeconfig_is_refused(dispatched, settings, tmp_path):
    settings.KUBECONFIG = _kubeconfig(tmp_path / "config", "prod-eks")
    message = _refused()
    assert f"KUBECONFIG {settings.KUBECONFIG} names cluster 'prod-eks'" in message
    assert "only to a sandbox (cluster 'gantry-sandbox')" in message


def test_the_context_that_is_used_decides(dispatched, settings, tmp_path):
    settings.KUBECONFIG = _kubeconfig(tmp_path / "config", "gantry-sandbox", "prod-eks", current="gantry-sandbox")
    settings.KUBE_CONTEXT = "ctx-prod-eks"
    assert "'prod-eks'" in _refused()
    settings.KUBE_CONTEXT = ""
    call_command("seed_demo")  # the current context is the sandbox's


def test_a_real_second_cluster_is_refused(dispatched, settings, tmp_path):
    settings.KUBECONFIG = kubeconfig_write(str(tmp_path / "kubeconfig"), "http://127.0.0.1:1")
    assert "--second-cluster" in _refused("--second-cluster", _kubeconfig(tmp_path / "ord1", "ord1-prod"))
    assert not Cluster.objects.exists()


def test_an_enabled_cluster_record_of_a_real_cluster_is_refused(dispatched, settings, tmp_path):
    settings.KUBECONFIG = kubeconfig_write(str(tmp_path / "kubeconfig"), "http://127.0.0.1:1")
    Cluster.objects.create(name="ord1", kubeconfig_path=_kubeconfig(tmp_path / "ord1", "ord1-prod"))
    Cluster.objects.create(name="lga1", connection=Cluster.Connection.IN_CLUSTER)
    message = _refused()
    assert "cluster record ord1:" in message and "cluster record lga1 is in-cluster" in message
    Cluster.objects.update(enabled=False)
    call_command("seed_demo")  # disabled records serve no region


def test_the_pods_own_service_account_is_refused(dispatched, settings):
    settings.KUBECONFIG = ""
    with mock.patch.object(seed_demo, "default_cluster_configured", autospec=True, return_value=True):
        assert "service account" in _refused()


def test_users_alone_are_seeded_whatever_the_cluster(dispatched, settings, tmp_path, django_user_model):
    settings.KUBECONFIG = _kubeconfig(tmp_path / "config", "prod-eks")
    call_command("seed_demo", "--no-deployments")
    assert django_user_model.objects.filter(username="demo").exists()
