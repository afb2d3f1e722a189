"""Model volumes (issue 13 item 1): never deleted, shrunk or taken over unless Gantry created them and no one uses them."""

import pytest

import clusters
from deployments.models import Deployment
from deployments.services import lifecycle, push
from specs.vocabulary import Status
from tests.factories import online_spec

CLAIMS = "persistentvolumeclaims"


def _on_volume(name, claim, size):
    return online_spec(name=name, target="kserve", model={
        "uri": f"pvc://{claim}/llama-3-8b/model.tensors", "parameters_billions": 8, "precision": "bf16",
        "format": "tensorizer"}, storage={"tier": "nvme-pvc", "pvc_size_gi": size})


def _deployed(user, spec):
    d = lifecycle.deployment_create(user=user, spec=spec)
    assert push.deployment_push(deployment_id=d.pk, revision=d.current_revision.number)
    return Deployment.objects.get(pk=d.pk)


def _torn_down(user, d):
    lifecycle.deployment_teardown(user=user, deployment=d)
    push.deployment_teardown_run(deployment_id=d.pk)


def _size(sandbox, claim):
    obj = sandbox.object(CLAIMS, "tenant-nlp", claim)
    return obj and obj["spec"]["resources"]["requests"]["storage"]


@pytest.fixture
def roomy(team):
    team.gpu_quota, team.monthly_budget_usd = 100, 10**6
    team.save()


@pytest.mark.usefixtures("roomy")
def test_a_shared_claim_is_neither_taken_over_nor_deleted_under_a_running_deployment(sandbox, sandbox_kubeconfig,
                                                                                       deployer):
    first = _deployed(deployer, _on_volume("first", "shared", 50))
    assert _size(sandbox, "shared") == "50Gi"
    assert sandbox.object(CLAIMS, "tenant-nlp", "shared")["metadata"]["labels"]["gantry.io/deployment"] == "first"
    second = _deployed(deployer, _on_volume("second", "shared", 500))
    assert _size(sandbox, "shared") == "50Gi"  # not resized by a deployment that did not create it

    _torn_down(deployer, first)
    assert Deployment.objects.get(pk=first.pk).status == Status.DELETED
    assert sandbox.object(CLAIMS, "tenant-nlp", "shared") is not None  # "second" still reads it

    _torn_down(deployer, second)
    assert sandbox.object(CLAIMS, "tenant-nlp", "shared") is None  # Gantry made it, and no one uses it now


@pytest.mark.usefixtures("roomy")
def test_a_claim_gantry_did_not_create_is_used_as_it_is_and_never_deleted(sandbox, sandbox_kubeconfig, deployer):
    clusters.namespace_ensure("tenant-nlp")
    clusters.object_apply({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                           "metadata": {"name": "team-weights", "namespace": "tenant-nlp"},
                           "spec": {"accessModes": ["ReadWriteMany"], "storageClassName": "shared-nvme-las1",
                                    "resources": {"requests": {"storage": "200Gi"}}}})
    d = _deployed(deployer, _on_volume("reader", "team-weights", 50))
    claim = sandbox.object(CLAIMS, "tenant-nlp", "team-weights")
    assert claim["spec"]["resources"]["requests"]["storage"] == "200Gi"
    assert "gantry.io/deployment" not in (claim["metadata"].get("labels") or {})
    _torn_down(deployer, d)
    assert Deployment.objects.get(pk=d.pk).status == Status.DELETED
    assert sandbox.object(CLAIMS, "tenant-nlp", "team-weights") is not None


@pytest.mark.usefixtures("roomy")
def test_a_smaller_size_never_shrinks_the_claim(sandbox, sandbox_kubeconfig, deployer):
    d = _deployed(deployer, _on_volume("own", "own-weights", 500))
    lifecycle.deployment_update(user=deployer, deployment=d, spec=_on_volume("own", "own-weights", 50))
    assert push.deployment_push(deployment_id=d.pk, revision=2)  # a shrink would be a 422 from the server
    assert _size(sandbox, "own-weights") == "500Gi"
    lifecycle.deployment_update(user=deployer, deployment=Deployment.objects.get(pk=d.pk),
                                spec=_on_volume("own", "own-weights", 800))
    assert push.deployment_push(deployment_id=d.pk, revision=3)
    assert _size(sandbox, "own-weights") == "800Gi"  # growing its own claim is fine
